#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Known CVE classes of other reverse proxies, replayed against gridfront.
# One or a few cases per class of vulnerability that hit nginx, HAProxy,
# Apache mod_proxy/mod_ssl or Go's net/http ReverseProxy and that applies to
# an HTTP/1.1 TLS reverse proxy with strict parsing, header stripping, path
# normalisation and path routing.  Each case names its CVE id(s) and class
# and asserts three things: what the client got; exactly what the echo
# backend received (nothing for a rejection, the exact request line or
# headers for a request that is accepted and sanitised); and that a clean
# request on a new connection still works afterwards.  Rejections also
# carry a pipelined request that must never be answered.  Classes that do
# not apply (HTTP/2, HPACK, resolvers, CGI, AJP, uwsgi, client-side bugs)
# are left out; client-initiated renegotiation (CVE-2009-3555) is checked
# in t_tls.sh.

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

start_backend b1
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"

BE=$(be_url b1)
routes="  - path: /api/
    auth: none
    backends: [$BE]
  - path: /status/
    auth: none
    backends: [$BE]
  - path: \"^/rw/\"
    rewrite: {from: \"^/rw/(.*)\$\", to: \"/new/\$1\"}
    auth: none
    backends: [$BE]
  - path: /cert/
    backends: [$BE]"
extra="limits:
  max_header_field: 4k
  max_header_block: 16k
auth:
  ca_path: $PKI/certificates
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  banned: $PKI/banned.txt
  hmac_key: $WORK/hmac.key"
std_conf "$WORK/cve.yaml" "$routes" "$extra"
start_proxy "$WORK/cve.yaml"
U=$(px_url)
ALICE=$PKI/creds/alice.pem

H='Host: a\r\n'
GOOD='GET /api/pipelined-after-reject HTTP/1.1\r\nHost: a\r\n\r\n'
CLEAN='GET /api/clean?c=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'

# ------------------------------------------------------------------ helpers

# clean_after NAME: a clean request on a new connection is answered by the
# backend with exactly its request line.
clean_after() {
	raw "$CLEAN"
	assert_eq "$1: a clean request afterwards still works" "200 /api/clean?c=1" \
	    "$(raw_status) $(body_of "$WORK/raw.out" | jq -r .target 2>/dev/null)"
}

# targets FILE: the "target" of every echo report in a raw response stream.
targets() { grep -a -o -E '"target": ?"[^"]*"' "$1" | sed -E 's/.*"([^"]*)"$/\1/'; }

# rej NAME EXPECTED REQUEST [head|body] [rawclient args...]: rejected with
# EXPECTED, one response only (the pipelined GOOD is not answered), and the
# backend received nothing: not one byte for head-level errors, no complete
# request for errors found in a body.
rej() {
	local name=$1 exp=$2 req=$3 level=${4:-head}
	shift 3
	[ $# -gt 0 ] && shift
	local b0 c0 r0 st
	b0=$(be_stats b1 bytes)
	c0=$(be_stats b1 completed)
	r0=$(be_stats b1 requests)
	raw "$req$GOOD" "$@"
	st=$(raw_status)
	if status_ok "$exp" "$st"; then pass "$name: status $exp"
	else fail "$name: status $exp" "request: $(printf %q "${req:0:200}")" \
	    "got $st: $(head -c 300 "$WORK/raw.out" | tr -d '\r' | tr '\n' '|')"
	fi
	assert_eq "$name: the pipelined request is not answered" 1 "$(raw_nresponses)"
	assert_not_contains "$name: the pipelined request never reached the backend" \
	    "$RAW_OUT" "pipelined-after-reject"
	if [ "$level" = head ]; then
		assert_eq "$name: backend received no byte" "$b0" "$(be_stats b1 bytes)"
	else
		assert_eq "$name: backend got no complete request" "$c0" \
		    "$(be_stats b1 completed)"
		assert_le "$name: backend saw at most this request's head" \
		    "$(be_stats b1 requests)" $((r0 + 1))
	fi
	clean_after "$name"
}

# fwd NAME REQUEST [rawclient args...]: accepted, 200, exactly one request
# completed at the backend; its echo report is left in J.  The caller
# checks J, then calls clean_after.
fwd() {
	local name=$1 req=$2 c0
	shift 2
	c0=$(be_stats b1 completed)
	raw "$req" "$@"
	J=$(body_of "$WORK/raw.out")
	if [ "$(raw_status)" = 200 ]; then pass "$name: status 200"
	else fail "$name: status 200" "request: $(printf %q "${req:0:200}")" \
	    "got: $(head -c 300 "$WORK/raw.out" | tr -d '\r' | tr '\n' '|')"; fi
	assert_eq "$name: exactly one request reached the backend" $((c0 + 1)) \
	    "$(be_stats b1 completed)"
}

# no_header NAME HEADER: the last echo report J has no HEADER.
no_header() {
	if json_has_header "$J" "$2"; then
		fail "$1: backend received no $2" "got: $(json_headers "$J" "$2")"
	else pass "$1: backend received no $2"; fi
}

# path_case NAME PATH STATUS [TARGET]: a GET of PATH (as sent) gets
# STATUS; with TARGET, the backend received exactly that request-target
# (one request); without, it received not one byte.
path_case() {
	local name=$1 path=$2 exp=$3 tgt=${4:-} b0 c0
	b0=$(be_stats b1 bytes)
	c0=$(be_stats b1 completed)
	raw "GET $path HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
	assert_eq "$name: status" "$exp" "$(raw_status)"
	assert_eq "$name: one response" 1 "$(raw_nresponses)"
	if [ -n "$tgt" ]; then
		J=$(body_of "$WORK/raw.out")
		assert_eq "$name: backend request-target" "$tgt" "$(jq -r .target <<<"$J" 2>/dev/null)"
		assert_eq "$name: exactly one request at the backend" $((c0 + 1)) \
		    "$(be_stats b1 completed)"
	else
		assert_eq "$name: backend received no byte" "$b0" "$(be_stats b1 bytes)"
	fi
	clean_after "$name"
}

long() { head -c "$1" </dev/zero | tr '\0' "${2:-a}"; }

# ------------------------------------------------------------------ HAProxy

# CVE-2019-18277 (HAProxy): Transfer-Encoding with a vertical tab taken as
# chunked by one hop and not the other (TE.TE obfuscation).
for te in '\x0bchunked' 'chunked\x0b' '\x0cchunked' 'chunked\x00'; do
	rej "CVE-2019-18277 TE '$te'" 4xx \
	    "POST /api/x HTTP/1.1\r\n${H}Transfer-Encoding: $te\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
	rej "CVE-2019-18277 TE '$te' without CL" 4xx \
	    "POST /api/x HTTP/1.1\r\n${H}Transfer-Encoding: $te\r\n\r\n0\r\n\r\n"
done

# CVE-2021-40346 (HAProxy): an 8-bit header-name length overflowed into
# the value, so "Content-Length0aaa...a:" became a second Content-Length
# and a request was smuggled in the body.  A long but legal name is just a
# header: the backend gets it verbatim, the body is framed by the one real
# Content-Length and the smuggled request stays body.
SMUG='GET /api/smuggled HTTP/1.1\r\nHost: a\r\n\r\n'
SMUG_LEN=$(printf "$SMUG" | wc -c)
name="Content-Length0$(long 256)"
fwd "CVE-2021-40346 270-byte name" \
    "POST /api/x HTTP/1.1\r\n${H}$name:\r\nContent-Length: $SMUG_LEN\r\nConnection: close\r\n\r\n$SMUG"
assert_eq "CVE-2021-40346: the long name reaches the backend verbatim" "1" \
    "$(jq -r --arg n "$name" '[.headers[] | select(.[0] == $n)] | length' <<<"$J")"
assert_eq "CVE-2021-40346: body framed by the real Content-Length" \
    "$SMUG_LEN length" "$(jq -r '"\(.body_length) \(.framing)"' <<<"$J")"
assert_eq "CVE-2021-40346: nothing smuggled (one response)" 1 "$(raw_nresponses)"
assert_eq "CVE-2021-40346: nothing smuggled (target)" "/api/x" "$(targets "$WORK/raw.out")"
clean_after "CVE-2021-40346"
# ... and a name or value over the field limit (4k here) is refused, not
# wrapped.  (Sizes stay small enough for the proxy to have read the whole
# request before it closes: see the lingering-close note in the report.)
rej "CVE-2021-40346 5000-byte name" 431 \
    "GET /api/x HTTP/1.1\r\n${H}$(long 5000 b): 1\r\n\r\n"
rej "CVE-2021-40346 5000-byte value" 431 \
    "GET /api/x HTTP/1.1\r\n${H}X-A: $(long 5000 b)\r\n\r\n"

# CVE-2023-25725 (HAProxy): an empty header name truncated the header list,
# dropping the headers after it (e.g. the proxy's own).
rej "CVE-2023-25725 empty header name" 4xx \
    "GET /api/x HTTP/1.1\r\n${H}: x\r\nX-After: 1\r\n\r\n"
rej "CVE-2023-25725 empty name, empty value" 4xx \
    "GET /api/x HTTP/1.1\r\n${H}:\r\n\r\n"

# CVE-2023-40225 (HAProxy): an empty Content-Length value was forwarded,
# each hop reading the body differently.
rej "CVE-2023-40225 empty Content-Length" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Content-Length:\r\n\r\n${SMUG}"
rej "CVE-2023-40225 blank Content-Length" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Content-Length:   \r\n\r\n${SMUG}"
rej "CVE-2023-40225 empty second Content-Length" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length:\r\n\r\n"

# CVE-2023-45539 (HAProxy): '#' accepted in the path, so a route or ACL on
# "/x" matched "/x#../admin" differently from the backend.
rej "CVE-2023-45539 '#' in the path" 4xx "GET /api/x#/../../cert/y HTTP/1.1\r\n${H}\r\n"

# CVE-2021-39240 (HAProxy): userinfo / odd authority in the target.
rej "CVE-2021-39240 absolute-form with userinfo" 4xx \
    "GET http://a@127.0.0.1/cert/x HTTP/1.1\r\n${H}\r\n"

# ------------------------------------------------------------------ nginx

# CVE-2013-2028 (nginx): a chunk size overflowing a signed/64-bit integer.
CH="POST /api/x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n"
rej "CVE-2013-2028 chunk size 2^64+" 4xx "${CH}FFFFFFFFFFFFFFFFF0\r\nhello\r\n0\r\n\r\n" body
rej "CVE-2013-2028 chunk size 2^63 (negative as signed)" 4xx \
    "${CH}8000000000000000\r\nhello\r\n0\r\n\r\n" body
rej "CVE-2013-2028 chunk size '-1'" 4xx "${CH}-1\r\nhello\r\n0\r\n\r\n" body

# CVE-2009-2629 (nginx): "/.." underflowing the root during normalisation.
# Dot segments are removed as RFC 3986 does (clamped at the root) BEFORE
# routing, so the route and its auth policy are those of the real path.
path_case "CVE-2009-2629 '/..'" '/..' 404
path_case "CVE-2009-2629 '/../api/x'" '/../api/x' 200 /api/x
path_case "CVE-2009-2629 '/api/../../x'" '/api/../../x' 404
path_case "CVE-2009-2629 '/api/../../../../etc/passwd'" '/api/../../../../etc/passwd' 404
path_case "CVE-2009-2629 '/api/../cert/x' (auth of the real path)" '/api/../cert/x' 403
path_case "CVE-2009-2629 '/api/./x//y'" '/api/./x//y' 200 /api/x/y

# CVE-2013-4547 (nginx): an unescaped space (and NUL) in the URI let
# "/x .php" be routed as one path and served as another.
rej "CVE-2013-4547 space in the URI" 4xx "GET /api/x /../../cert/y HTTP/1.1\r\n${H}\r\n"
rej "CVE-2013-4547 space + NUL in the URI" 4xx "GET /api/x \0.php HTTP/1.1\r\n${H}\r\n"
rej "CVE-2013-4547 tab in the URI" 4xx "GET /api/x\t/y HTTP/1.1\r\n${H}\r\n"

# CVE-2019-20372 (nginx): after an error response the rest of the request
# (its body) was parsed as a second request.  A refused request with a
# body holding a request: that request must never reach the backend.
for pre in "404 GET /nowhere" "403 GET /cert/x" "403 POST /cert/x"; do
	exp=${pre%% *}
	pre="${pre#* } HTTP/1.1\r\n${H}"
	c0=$(be_stats b1 completed)
	raw "${pre}Content-Length: $SMUG_LEN\r\n\r\n$SMUG"
	assert_eq "CVE-2019-20372 '${pre%% HTTP*}': refused" "$exp" "$(raw_status)"
	assert_eq "CVE-2019-20372 '${pre%% HTTP*}': one response" 1 "$(raw_nresponses)"
	assert_not_contains "CVE-2019-20372 '${pre%% HTTP*}': body not run as a request" \
	    "$RAW_OUT" "/api/smuggled"
	assert_eq "CVE-2019-20372 '${pre%% HTTP*}': backend received nothing" "$c0" \
	    "$(be_stats b1 completed)"
	clean_after "CVE-2019-20372 '${pre%% HTTP*}'"
done

# ------------------------------------------------------------------ Apache

# CVE-2023-25690 (Apache mod_proxy + mod_rewrite): %0d%0a in the path was
# decoded into a rewritten upstream request line, splitting it into two
# requests.  The rewritten request line must hold no CR/LF and not split.
path_case "CVE-2023-25690 %0d%0a header injection" '/rw/a%0d%0aX-Inj:%20y' \
    200 '/new/a%0D%0AX-Inj:%20y'
no_header "CVE-2023-25690 %0d%0a header injection" X-Inj
path_case "CVE-2023-25690 %0d%0a request splitting" \
    '/rw/a%0d%0a%0d%0aGET%20/api/smuggled%20HTTP/1.1%0d%0aHost:%20a' \
    200 '/new/a%0D%0A%0D%0AGET%20/api/smuggled%20HTTP/1.1%0D%0AHost:%20a'
path_case "CVE-2023-25690 %0a alone" '/rw/a%0aX-Inj:%20y' 200 '/new/a%0AX-Inj:%20y'
path_case "CVE-2023-25690 %0d alone" '/rw/a%0dX-Inj:%20y' 200 '/new/a%0DX-Inj:%20y'
# The query is forwarded as-is, never decoded into the request line.
fwd "CVE-2023-25690 %0d%0a in the query" \
    "GET /rw/q?x=%0d%0aX-Inj:%20y HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
assert_eq "CVE-2023-25690 query: rewritten target, query verbatim" \
    "/new/q?x=%0d%0aX-Inj:%20y" "$(jq -r .target <<<"$J")"
no_header "CVE-2023-25690 query" X-Inj
clean_after "CVE-2023-25690 query"

# CVE-2021-41773 / CVE-2021-42013 (Apache): encoded dot segments (%2e%2e,
# .%2e, double-encoded %%32%65) escaping the route after decoding.
# Encoded dots are decoded before dot segments are removed, so they cannot
# hide a climb from the router: the result is routed (and authorised) as
# the real path.  Double encoding is either invalid (400) or a literal.
path_case "CVE-2021-41773 '%2e%2e' into /cert/" '/api/%2e%2e/cert/x' 403
path_case "CVE-2021-41773 '.%2e' into /cert/" '/api/.%2e/cert/x' 403
path_case "CVE-2021-41773 '%2e.' into /cert/" '/api/%2e./cert/x' 403
path_case "CVE-2021-41773 '%2E%2E' out of the root" '/api/%2E%2E/%2E%2E/etc/passwd' 404
path_case "CVE-2021-41773 '%2e%2e' out of a rewrite route" '/rw/%2e%2e/%2e%2e/cert/x' 403
path_case "CVE-2021-41773 '%2e%2e' staying in the route" '/api/a/%2e%2e/b' 200 /api/b
path_case "CVE-2021-42013 '.%%32%65'" '/api/.%%32%65/cert/x' 400
path_case "CVE-2021-42013 '%%32%65%%32%65'" '/api/%%32%65%%32%65/cert/x' 400
path_case "CVE-2021-42013 '%252e%252e' stays a literal" '/api/%252e%252e/cert/x' \
    200 '/api/%252e%252e/cert/x'

# CVE-2011-3368 / CVE-2011-4317 (Apache mod_proxy): a request-target not
# starting with '/' ("@host", ":@host") glued onto the backend URL.
rej "CVE-2011-3368 target '@evil'"       4xx "GET @127.0.0.1:1/x HTTP/1.1\r\n${H}\r\n"
rej "CVE-2011-4317 target ':@evil'"      4xx "GET :@127.0.0.1:1/x HTTP/1.1\r\n${H}\r\n"
rej "CVE-2011-3368 target 'evil/x'"      4xx "GET 127.0.0.1:1/x HTTP/1.1\r\n${H}\r\n"
rej "CVE-2011-3368 asterisk-form GET"    4xx "GET * HTTP/1.1\r\n${H}\r\n"

# CVE-2021-40438 (Apache mod_proxy SSRF via "unix:...|http://evil/"): the
# target never chooses the backend; it is forwarded verbatim to the route's.
fwd "CVE-2021-40438 unix:|http:// in the query" \
    "GET /api/x?unix:$(long 300 A)|http://127.0.0.1:1/ HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
assert_eq "CVE-2021-40438: the configured backend got it verbatim" \
    "/api/x?unix:$(long 300 A)|http://127.0.0.1:1/" "$(jq -r .target <<<"$J")"
clean_after "CVE-2021-40438"

# CVE-2016-5387 httpoxy (Apache, and every CGI-fronting proxy): a client
# "Proxy:" header becomes HTTP_PROXY at the backend.  It is stripped.
fwd "CVE-2016-5387 httpoxy" \
    "GET /api/x HTTP/1.1\r\n${H}Proxy: http://127.0.0.1:1/\r\nPROXY: b\r\nConnection: close\r\n\r\n"
no_header "CVE-2016-5387" Proxy
assert_not_contains "CVE-2016-5387: the value did not reach the backend" "$J" "127.0.0.1:1"
clean_after "CVE-2016-5387"

# CVE-2022-22720 (Apache): the body of a refused request was not discarded
# and ran as the next request on the connection; also checked above for
# CVE-2019-20372.  Here with a chunked body on a route that needs a cert.
c0=$(be_stats b1 completed)
raw "POST /cert/x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n$(printf %x "$SMUG_LEN")\r\n${SMUG}\r\n0\r\n\r\n$GOOD"
assert_eq "CVE-2022-22720 chunked body of a refused request: 403" 403 "$(raw_status)"
assert_not_contains "CVE-2022-22720: the body did not run as a request" "$RAW_OUT" "/api/smuggled"
assert_eq "CVE-2022-22720: backend received nothing" "$c0" "$(be_stats b1 completed)"
clean_after "CVE-2022-22720"

# CVE-2009-3555 (mod_ssl and all TLS servers): client-initiated
# renegotiation; covered by t_tls.sh ("client renegotiation refused").

# CVE-2019-0215 (mod_ssl): TLS 1.3 post-handshake authentication let a
# client reach a certificate-only location without a certificate.  Without
# a certificate, a /cert/ request is 403 even after a /api/ request on the
# same connection; nothing of it is forwarded.
c0=$(be_stats b1 completed)
raw "GET /api/first HTTP/1.1\r\n${H}\r\nGET /cert/second HTTP/1.1\r\n${H}\r\nGET /api/third HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
got=$(grep -a -o -E 'HTTP/1\.1 [0-9]{3}' "$WORK/raw.out" | awk '{print $2}' | tr '\n' ' ')
assert_eq "CVE-2019-0215 no cert: /api/ 200, /cert/ 403, /api/ 200" "200 403 200 " "$got"
assert_eq "CVE-2019-0215: only the /api/ requests were forwarded" "/api/first /api/third" \
    "$(targets "$WORK/raw.out" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "CVE-2019-0215: backend completed exactly two" $((c0 + 2)) "$(be_stats b1 completed)"
assert_not_contains "CVE-2019-0215: /cert/second never reached the backend" \
    "$RAW_OUT" '"/cert/second"'
clean_after "CVE-2019-0215"

# ------------------------------------------------------------------ Go net/http

# CVE-2021-33197 (Go ReverseProxy): a client "Connection:" header naming
# the proxy's own headers made the proxy delete them after adding them.
n0=$(be_stats b1 completed)
J=$(gcurl --cert "$ALICE" \
    -H 'Connection: X-Forwarded-For, X-Forwarded-Proto, cms-authn-dn, cms-authn-hmac, cms-auth-status, X-Hop' \
    -H 'X-Hop: 1' "$U/cert/c33197")
assert_eq "CVE-2021-33197: request forwarded" $((n0 + 1)) "$(be_stats b1 completed)"
assert_eq "CVE-2021-33197: gridfront's X-Forwarded-For survives" 127.0.0.1 \
    "$(json_headers "$J" X-Forwarded-For)"
assert_eq "CVE-2021-33197: gridfront's X-Forwarded-Proto survives" https \
    "$(json_headers "$J" X-Forwarded-Proto)"
assert_contains "CVE-2021-33197: cms-authn-dn survives" \
    "$(json_headers "$J" cms-authn-dn)" "CN=alice"
assert_ne "CVE-2021-33197: cms-authn-hmac survives" "" "$(json_headers "$J" cms-authn-hmac)"
assert_eq "CVE-2021-33197: cms-auth-status survives" OK "$(json_headers "$J" cms-auth-status)"
no_header "CVE-2021-33197 (hop-by-hop named in Connection)" X-Hop
clean_after "CVE-2021-33197"

# CVE-2022-32148 (Go ReverseProxy): a client X-Forwarded-For was kept (or
# a nil one preserved); gridfront replaces it with the peer address.
fwd "CVE-2022-32148 X-Forwarded-For" \
    "GET /api/x HTTP/1.1\r\n${H}X-Forwarded-For: 6.6.6.6\r\nx-forwarded-for: 7.7.7.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: evil\r\nForwarded: for=6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nConnection: close\r\n\r\n"
assert_eq "CVE-2022-32148: exactly gridfront's X-Forwarded-For, once" 127.0.0.1 \
    "$(json_headers "$J" X-Forwarded-For)"
assert_eq "CVE-2022-32148: X-Forwarded-Proto is https" https \
    "$(json_headers "$J" X-Forwarded-Proto)"
assert_not_contains "CVE-2022-32148: no client address anywhere" "$J" "6.6.6.6"
assert_not_contains "CVE-2022-32148: no second client address" "$J" "7.7.7.7"
assert_eq "CVE-2022-32148: X-Forwarded-Host is gridfront's (from Host)" a \
    "$(json_headers "$J" X-Forwarded-Host)"
assert_not_contains "CVE-2022-32148: no client X-Forwarded-Host" "$J" "evil"
no_header "CVE-2022-32148" Forwarded
no_header "CVE-2022-32148" X-Real-IP
clean_after "CVE-2022-32148"
fwd "CVE-2022-32148 empty X-Forwarded-For" \
    "GET /api/x HTTP/1.1\r\n${H}X-Forwarded-For:\r\nConnection: close\r\n\r\n"
assert_eq "CVE-2022-32148 empty: replaced by gridfront's" 127.0.0.1 \
    "$(json_headers "$J" X-Forwarded-For)"
clean_after "CVE-2022-32148 empty"

# CVE-2022-2880 (Go ReverseProxy): a query with ';' was re-encoded on the
# way to the backend, so both hops saw different parameters.
for q in 'a=1;b=2' 'a=1%3Bb=2&c=%3b' 'x=%2F;%20;+&=' ';;'; do
	fwd "CVE-2022-2880 query '$q'" "GET /api/q?$q HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
	assert_eq "CVE-2022-2880 query '$q': forwarded unchanged" "/api/q?$q" \
	    "$(jq -r .target <<<"$J")"
	clean_after "CVE-2022-2880 '$q'"
done

# CVE-2023-29406 (Go): a Host header with CR/LF or spaces became header
# injection on the next hop.
rej "CVE-2023-29406 Host with a space"     4xx "GET /api/x HTTP/1.1\r\nHost: a b\r\n\r\n"
rej "CVE-2023-29406 Host with a tab"       4xx "GET /api/x HTTP/1.1\r\nHost: a\tb\r\n\r\n"
rej "CVE-2023-29406 Host with a bare CR"   4xx "GET /api/x HTTP/1.1\r\nHost: a\rX-Inj: 1\r\n\r\n"
rej "CVE-2023-29406 Host with a bare LF"   4xx "GET /api/x HTTP/1.1\r\nHost: a\nX-Inj: 1\r\n\r\n"
rej "CVE-2023-29406 Host with '/'"         4xx "GET /api/x HTTP/1.1\r\nHost: a/b\r\n\r\n"
rej "CVE-2023-29406 Host with userinfo"    4xx "GET /api/x HTTP/1.1\r\nHost: u@a\r\n\r\n"

# CVE-2019-16276 (Go): a space before the colon made "Content-Length :"
# or "Transfer-Encoding :" count for one hop and not the other.
rej "CVE-2019-16276 'X-A : 1'" 4xx "GET /api/x HTTP/1.1\r\n${H}X-A : 1\r\n\r\n"
rej "CVE-2019-16276 'Content-Length : N'" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Content-Length : $SMUG_LEN\r\n\r\n${SMUG}"
rej "CVE-2019-16276 'Transfer-Encoding : chunked' + CL" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"

# CVE-2015-5739 / CVE-2015-5740 (Go): invalid header names ("Content
# Length") and double Content-Length accepted.
rej "CVE-2015-5739 'Content Length'" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Content Length: $SMUG_LEN\r\n\r\n${SMUG}"
rej "CVE-2015-5740 double Content-Length" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: $SMUG_LEN\r\n\r\n${SMUG}"
rej "CVE-2015-5740 CL + TE" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Content-Length: $SMUG_LEN\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUG}"
# A framing header spelled with '_' (which CGI-style backends and some
# proxies fold into Content-Length) is refused outright.
rej "CVE-2015-5739 'Content_Length'" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Content_Length: $SMUG_LEN\r\nContent-Length: 0\r\n\r\n${SMUG}"
rej "CVE-2015-5739 'Transfer_Encoding'" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Transfer_Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"

# CVE-2022-1705 (Go): Transfer-Encoding variants ("chunked " and friends,
# TE on HTTP/1.0) read as chunked by one hop only.
rej "CVE-2022-1705 TE chunked on HTTP/1.0" 4xx \
    "POST /api/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
rej "CVE-2022-1705 TE chunked on HTTP/1.0 + CL" 4xx \
    "POST /api/x HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
rej "CVE-2022-1705 TE ', chunked'" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n"
rej "CVE-2022-1705 TE 'chunked,'" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n"
rej "CVE-2022-1705 TE 'chunk'" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Transfer-Encoding: chunk\r\n\r\n0\r\n\r\n"
rej "CVE-2022-1705 TE '\"chunked\"'" 4xx \
    "POST /api/x HTTP/1.1\r\n${H}Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n"
# Trailing optional whitespace is not part of a field value: "chunked "
# is chunked, and the backend sees exactly one request with its 5 bytes
# (buffered, so sent with a Content-Length).
fwd "CVE-2022-1705 TE 'chunked ' (OWS)" \
    "POST /api/x HTTP/1.1\r\n${H}Transfer-Encoding: chunked \r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
assert_eq "CVE-2022-1705 'chunked ': 5 bytes, sized" "5 length" \
    "$(jq -r '"\(.body_length) \(.framing)"' <<<"$J")"
clean_after "CVE-2022-1705 'chunked '"

# CVE-2023-39326 (Go) and CVE-2025-22871 (Go): excess chunk-extension
# data; a bare LF ending a chunk-size line.
rej "CVE-2023-39326 chunk extension over the limit" 4xx "${CH}5;$(long 4000 e)\r\nhello\r\n0\r\n\r\n" body
rej "CVE-2023-39326 many extensions over the limit" 4xx \
    "${CH}5$(for i in $(seq 1 400); do printf ';a%d=b' "$i"; done)\r\nhello\r\n0\r\n\r\n" body
rej "CVE-2025-22871 bare LF after chunk size" 4xx "${CH}5\nhello\r\n0\r\n\r\n" body
rej "CVE-2025-22871 bare LF after chunk ext" 4xx "${CH}5;a\nhello\r\n0\r\n\r\n" body
rej "CVE-2025-22871 bare LF after chunk data" 4xx "${CH}5\r\nhello\n0\r\n\r\n" body

# CVE-2022-41721 (Go h2c) and h2c smuggling in general: an Upgrade: h2c
# through the proxy would tunnel to the backend past routing and auth.
fwd "CVE-2022-41721 h2c upgrade" \
    "GET /api/x HTTP/1.1\r\n${H}Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: Upgrade, HTTP2-Settings, close\r\n\r\n"
no_header "CVE-2022-41721" Upgrade
no_header "CVE-2022-41721" HTTP2-Settings
assert_eq "CVE-2022-41721: no 101 to the client" 1 "$(raw_nresponses)"
clean_after "CVE-2022-41721"

# CVE-2024-24791 (Go): a backend answering a request with Expect:
# 100-continue with a final status before the body left the connection
# in a bad state for the requests after it.  Two requests pipelined after
# an Expect request (whose backend answers 417) are answered correctly.
c0=$(be_stats b1 completed)
raw "POST /status/417 HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhelloGET /api/p1 HTTP/1.1\r\n${H}\r\nGET /api/p2 HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
finals=$(grep -a -o -E 'HTTP/1\.1 [0-9]{3}' "$WORK/raw.out" | awk '$2 !~ /^1/ {print $2}' | tr '\n' ' ')
assert_eq "CVE-2024-24791: 417 then 200 200" "417 200 200 " "$finals"
assert_eq "CVE-2024-24791: each pipelined request answered with its own echo" \
    "/api/p1 /api/p2" "$(targets "$WORK/raw.out" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "CVE-2024-24791: the backend completed all three" $((c0 + 3)) "$(be_stats b1 completed)"
# gridfront answers Expect itself (and strips it upstream), so the backend
# never gets to answer before the body: without the body the client gets
# exactly one "100 Continue", the connection stays open waiting for it and
# the backend has completed nothing.
c0=$(be_stats b1 completed)
raw "POST /status/417 HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n" \
    --timeout-ms 1500
assert_eq "CVE-2024-24791 no body yet: one 100 Continue from gridfront" "100 1" \
    "$(raw_status) $(raw_nresponses)"
assert_eq "CVE-2024-24791 no body yet: the backend completed nothing" "$c0" \
    "$(be_stats b1 completed)"
c0=$(be_stats b1 completed)
raw "POST /api/e HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
assert_eq "CVE-2024-24791 Expect with the body: 100 then 200" "100 200 " \
    "$(grep -a -o -E 'HTTP/1\.1 [0-9]{3}' "$WORK/raw.out" | awk '{print $2}' | tr '\n' ' ')"
assert_eq "CVE-2024-24791 Expect with the body: one request at the backend" $((c0 + 1)) \
    "$(be_stats b1 completed)"
J=$(grep -a '^{' "$WORK/raw.out")
no_header "CVE-2024-24791 Expect stripped upstream" Expect
assert_eq "CVE-2024-24791: the backend got the 5-byte body and sent no 100" "5 false" \
    "$(jq -r '"\(.body_length) \(.sent_100)"' <<<"$J")"
clean_after "CVE-2024-24791"

stop_proxy
assert_eq "proxy exits 0 on SIGTERM" 0 "$?"
finish
