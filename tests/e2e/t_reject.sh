#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The strict request-validation layer, end to end.  Every rejection of
# issue 2's list is sent as exact bytes over TLS, followed by a clean
# request pipelined behind it.  For each case the client must get one 4xx
# (414/431 for limits) with "Connection: close", the connection must be
# closed, the pipelined request must not be answered, and the backend must
# have received nothing: not one byte for head-level errors, no complete
# request for errors found in a chunked body (the head of a streamed
# request may legitimately be on its way by then).  After each case a clean
# request on a new connection must still work.  Positive controls show the
# limits and framing rules are not simply rejecting everything.

. "$(dirname "$0")/lib.sh"

start_backend b1
std_conf "$WORK/reject.yaml" "$(route / b1)" "limits:
  max_request_line: 1k
  max_header_field: 1k
  max_header_block: 4k
  max_header_count: 20
  max_chunk_ext: 256"
start_proxy "$WORK/reject.yaml"

GOOD='GET /pipelined-after-reject HTTP/1.1\r\nHost: a\r\n\r\n'
CLEAN='GET /clean HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
H='Host: a\r\n'

# reject NAME EXPECTED REQUEST [head|body]
reject() {
	local name=$1 exp=$2 req=$3 level=${4:-head}
	local b0 c0 r0 st conn
	b0=$(be_stats b1 bytes)
	c0=$(be_stats b1 completed)
	r0=$(be_stats b1 requests)
	raw "$req$GOOD"
	st=$(raw_status)
	if status_ok "$exp" "$st"; then pass "$name: status $exp"
	else fail "$name: status" "request: $(printf %q "$req")" \
	    "expected $exp, got $st" "response: $(head -c 300 "$WORK/raw.out" | tr -d '\r' | tr '\n' '|')"
	fi
	conn=$(raw_header Connection | tr 'A-Z' 'a-z')
	if [[ "$conn" == *close* ]]; then pass "$name: Connection: close"
	else fail "$name: Connection: close" "request: $(printf %q "$req")" \
	    "got Connection: '$conn'"; fi
	if raw_closed; then pass "$name: connection closed"
	else fail "$name: connection closed" "request: $(printf %q "$req")" \
	    "$(tr '\n' ' ' <"$WORK/raw.err")"; fi
	assert_eq "$name: nothing pipelined after it was answered" 1 "$(raw_nresponses)"
	if [ "$level" = head ]; then
		assert_eq "$name: backend received no byte" "$b0" "$(be_stats b1 bytes)"
	else
		assert_eq "$name: backend got no complete request" "$c0" \
		    "$(be_stats b1 completed)"
		assert_le "$name: the pipelined request never reached the backend" \
		    "$(be_stats b1 requests)" $((r0 + 1))
	fi
	raw "$CLEAN"
	assert_eq "$name: a clean request afterwards still works" 200 "$(raw_status)"
}

# accept NAME REQUEST: a control that must be forwarded and answered 200.
accept() {
	local name=$1 req=$2 r0
	r0=$(be_stats b1 completed)
	raw "$req"
	assert_eq "control: $name: 200" 200 "$(raw_status)"
	assert_eq "control: $name: reached the backend" $((r0 + 1)) \
	    "$(be_stats b1 completed)"
}

long() { head -c "$1" </dev/zero | tr '\0' "${2:-a}"; }

# ------------------------------------------------------------ header syntax
reject "obs-fold (space)"        4xx "GET / HTTP/1.1\r\n${H}X-A: 1\r\n  folded\r\n\r\n"
reject "obs-fold (tab)"          4xx "GET / HTTP/1.1\r\n${H}X-A: 1\r\n\tfolded\r\n\r\n"
reject "fold before first header" 4xx "GET / HTTP/1.1\r\n ${H}\r\n"
reject "empty header name"       4xx "GET / HTTP/1.1\r\n${H}: empty\r\n\r\n"
reject "space inside a name"     4xx "GET / HTTP/1.1\r\n${H}X A: 1\r\n\r\n"
reject "space before the colon"  4xx "GET / HTTP/1.1\r\n${H}X-A : 1\r\n\r\n"
reject "space before colon, TE"  4xx "POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
reject "tab inside a name"       4xx "GET / HTTP/1.1\r\n${H}X\tA: 1\r\n\r\n"
reject "tab before the colon"    4xx "GET / HTTP/1.1\r\n${H}X-A\t: 1\r\n\r\n"
reject "non-ASCII name"          4xx "GET / HTTP/1.1\r\n${H}X-\xc3\xa9: 1\r\n\r\n"
reject "name with '@'"           4xx "GET / HTTP/1.1\r\n${H}X@A: 1\r\n\r\n"
reject "name with '('"           4xx "GET / HTTP/1.1\r\n${H}X(A): 1\r\n\r\n"
reject "name with '/'"           4xx "GET / HTTP/1.1\r\n${H}X/A: 1\r\n\r\n"
reject "line without a colon"    4xx "GET / HTTP/1.1\r\n${H}NoColonHere\r\n\r\n"
reject "CR inside a value"       4xx "GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n"
reject "NUL inside a value"      4xx "GET / HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n"
reject "NUL inside the Host"     4xx "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"
reject "LF inside a value"       4xx "GET / HTTP/1.1\r\n${H}X-A: a\nb: c\r\n\r\n"

# ------------------------------------------------------------ line endings
reject "bare CR ends request line" 4xx "GET / HTTP/1.1\r${H}\r\n"
reject "bare CR ends a header"     4xx "GET / HTTP/1.1\r\nHost: a\rX-A: 1\r\n\r\n"
reject "bare LF everywhere"        4xx "GET / HTTP/1.1\nHost: a\n\n"
reject "bare LF ends request line" 4xx "GET / HTTP/1.1\n${H}\r\n"
reject "bare LF ends a header"     4xx "GET / HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n"
reject "bare LF ends the head"     4xx "GET / HTTP/1.1\r\n${H}\n"

# ------------------------------------------------------------ versions
reject "HTTP/0.9 request"        4xx "GET /\r\n\r\n"
reject "HTTP/0.9 version"        4xx "GET / HTTP/0.9\r\n${H}\r\n"
reject "HTTP/1.2"                4xx "GET / HTTP/1.2\r\n${H}\r\n"
reject "HTTP/2.0"                4xx "GET / HTTP/2.0\r\n${H}\r\n"
reject "HTTP/3"                  4xx "GET / HTTP/3\r\n${H}\r\n"
reject "HTTP/1.01"               4xx "GET / HTTP/1.01\r\n${H}\r\n"
reject "lower-case http/1.1"     4xx "GET / http/1.1\r\n${H}\r\n"
reject "junk after the version"  4xx "GET / HTTP/1.1 x\r\n${H}\r\n"
reject "two spaces in the line"  4xx "GET  / HTTP/1.1\r\n${H}\r\n"
reject "space inside the target" 4xx "GET /a b HTTP/1.1\r\n${H}\r\n"
reject "method not a token"      4xx "G(T / HTTP/1.1\r\n${H}\r\n"
reject "space before the method" 4xx " GET / HTTP/1.1\r\n${H}\r\n"

# ------------------------------------------------------------ Host
reject "HTTP/1.1 without Host"   4xx "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n"
reject "duplicate Host (same)"   4xx "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"
reject "duplicate Host (differs)" 4xx "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"
reject "Host list"               4xx "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"

# ------------------------------------------------------------ framing
reject "CL + TE (CL.TE)"          4xx "POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
reject "TE + CL (TE.CL)"          4xx "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"
reject "duplicate CL, same value" 4xx "POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
reject "duplicate CL, differing"  4xx "POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
reject "CL list '5, 5'"           4xx "POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello"
reject "CL '+5'"                  4xx "POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello"
reject "CL '-1'"                  4xx "POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n"
reject "CL '5a'"                  4xx "POST / HTTP/1.1\r\n${H}Content-Length: 5a\r\n\r\nhello"
reject "CL '0x5'"                 4xx "POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello"
reject "CL '5 5'"                 4xx "POST / HTTP/1.1\r\n${H}Content-Length: 5 5\r\n\r\nhello"
reject "CL empty"                 4xx "POST / HTTP/1.1\r\n${H}Content-Length: \r\n\r\n"
reject "CL overflows 64 bits"     4xx "POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\nhello"
reject "TE 'gzip, chunked'"       4xx "POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
reject "TE 'chunked, gzip'"       4xx "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"
reject "TE 'identity'"            4xx "POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n"
reject "TE 'chunked, chunked'"    4xx "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"
reject "TE twice (TE.TE)"         4xx "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
reject "TE 'xchunked'"            4xx "POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"
reject "TE 'chunked' + VT"        4xx "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n"
reject "TE with a parameter"      4xx "POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n"

# Chunked-body errors: found after the head, maybe after it was forwarded.
CH="POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
reject "chunk size overflows (18 F)" 4xx "${CH}FFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n" body
reject "chunk size 2^64"             4xx "${CH}10000000000000000\r\nhello\r\n0\r\n\r\n" body
reject "chunk size not hex"          4xx "${CH}zz\r\nhello\r\n0\r\n\r\n" body
reject "chunk size empty"            4xx "${CH}\r\nhello\r\n0\r\n\r\n" body
reject "chunk data without CRLF"     4xx "${CH}5\r\nhelloXX0\r\n\r\n" body
reject "over-long chunk extension"   4xx "${CH}5;$(long 1000 e)\r\nhello\r\n0\r\n\r\n" body
reject "over-long last-chunk ext"    4xx "${CH}0;$(long 1000 e)\r\n\r\n" body

# ------------------------------------------------------------ targets
reject "'#' in the target"         4xx "GET /a#b HTTP/1.1\r\n${H}\r\n"
reject "'#' in the query"          4xx "GET /a?b#c HTTP/1.1\r\n${H}\r\n"
reject "absolute-form http"        4xx "GET http://a/ HTTP/1.1\r\n${H}\r\n"
reject "absolute-form https"       4xx "GET https://a/x HTTP/1.1\r\n${H}\r\n"
reject "authority-form CONNECT"    4xx "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"
reject "CONNECT with a path"       4xx "CONNECT / HTTP/1.1\r\n${H}\r\n"
reject "authority-form with GET"   4xx "GET a:443 HTTP/1.1\r\n${H}\r\n"
reject "relative target"           4xx "GET a/b HTTP/1.1\r\n${H}\r\n"

# ------------------------------------------------------------ paths
reject "%2F in the path"           4xx "GET /a%2Fb HTTP/1.1\r\n${H}\r\n"
reject "%2f in the path"           4xx "GET /a%2fb HTTP/1.1\r\n${H}\r\n"
reject "%00 in the path"           4xx "GET /a%00b HTTP/1.1\r\n${H}\r\n"
reject "%5C in the path"           4xx "GET /a%5Cb HTTP/1.1\r\n${H}\r\n"
reject "%5c in the path"           4xx "GET /a%5cb HTTP/1.1\r\n${H}\r\n"
reject "backslash in the path"     4xx "GET /a\\\\b HTTP/1.1\r\n${H}\r\n"
reject "backslash dot-dot"         4xx "GET /a\\\\..\\\\b HTTP/1.1\r\n${H}\r\n"

# ------------------------------------------------------------ limits
reject "request line over the limit" 414 "GET /$(long 2000) HTTP/1.1\r\n${H}\r\n"
reject "header field over the limit" 431 "GET / HTTP/1.1\r\n${H}X-Long: $(long 2000)\r\n\r\n"
blk=""
for i in 1 2 3 4 5 6 7 8; do blk="${blk}X-B$i: $(long 700)\r\n"; done
reject "header block over the limit" 431 "GET / HTTP/1.1\r\n${H}${blk}\r\n"
cnt=""
for i in $(seq 1 30); do cnt="${cnt}X-C$i: $i\r\n"; done
reject "header count over the limit" 431 "GET / HTTP/1.1\r\n${H}${cnt}\r\n"

# ------------------------------------------------------------ controls
accept "HTTP/1.0 without Host" "GET /ok HTTP/1.0\r\n\r\n"
accept "HTTP/1.1 with Host"    "GET /ok HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
accept "Content-Length body"   "POST /ok HTTP/1.1\r\n${H}Content-Length: 5\r\nConnection: close\r\n\r\nhello"
accept "chunked body"          "POST /ok HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
accept "short chunk extension" "POST /ok HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n"
accept "request line under the limit" "GET /$(long 900) HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
accept "header field under the limit" "GET / HTTP/1.1\r\n${H}X-Long: $(long 900)\r\nConnection: close\r\n\r\n"
blk=""
for i in 1 2 3 4; do blk="${blk}X-B$i: $(long 700)\r\n"; done
accept "header block under the limit" "GET / HTTP/1.1\r\n${H}${blk}Connection: close\r\n\r\n"
cnt=""
for i in $(seq 1 17); do cnt="${cnt}X-C$i: $i\r\n"; done
accept "header count under the limit" "GET / HTTP/1.1\r\n${H}${cnt}Connection: close\r\n\r\n"
accept "value with inner spaces and tabs" "GET / HTTP/1.1\r\n${H}X-A: a \t b\r\nConnection: close\r\n\r\n"

# What the backend saw for a control: nothing the client did not send.
raw "GET /exact?q=1 HTTP/1.1\r\n${H}X-A: a \t b\r\nConnection: close\r\n\r\n"
j=$(body_of "$WORK/raw.out")
assert_eq "control: target forwarded exactly" "/exact?q=1" "$(jq -r .target <<<"$j")"
assert_eq "control: inner whitespace of a value preserved" $'a \t b' \
    "$(json_headers "$j" X-A)"
assert_eq "control: no bare LF reached the backend" false "$(jq -r .bare_lf <<<"$j")"

stop_proxy
finish
