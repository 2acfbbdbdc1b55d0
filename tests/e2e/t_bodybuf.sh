#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Request buffering (issue 11, item 2): nothing reaches a backend unless
# the request is valid.  A body of up to limits.body_buffer is received and
# checked before any backend is contacted, so each malformed first chunk
# line gets a 400 while the backend receives not one byte (not even the
# head); the buffered body then goes up with a Content-Length.  A longer
# body streams once its first body_buffer bytes were checked; a route with
# buffer_body: false streams from the first byte.  Expect: 100-continue is
# answered by gridfront itself.  The per-worker budget
# (limits.body_buffer_total) pauses a body that does not fit until
# another one releases its share, timeouts.body_idle still ends a wait
# that lasts too long, and a body that already holds a share streams on
# rather than wait.

. "$(dirname "$0")/lib.sh"

start_backend b1

# stream_route PATH BACKEND: a route that does not buffer bodies.
stream_route() {
	printf '  - path: "%s"\n    auth: none\n    buffer_body: false\n    backends: [%s]\n' \
	    "$1" "$(be_url "$2")"
}

routes="$(stream_route /stream b1)
  - path: /denied
    auth: none
    allow_from: [10.0.0.0/8]
    backends: [$(be_url b1)]
$(route / b1)"
std_conf "$WORK/bb.yaml" "$routes" "limits:
  body_buffer: 64k
timeouts:
  body_idle: 4s"
start_proxy "$WORK/bb.yaml"
U=$(px_url)

GOOD='GET /pipelined-after-reject HTTP/1.1\r\nHost: a\r\n\r\n'
CLEAN='GET /clean HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
CH='POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'

# nothing NAME REQUEST: a 400, one response, and the backend received no
# byte at all: neither head nor body.
nothing() {
	local name=$1 req=$2 b0 r0
	b0=$(be_stats b1 bytes)
	r0=$(be_stats b1 requests)
	raw "$req$GOOD"
	assert_eq "$name: 400" 400 "$(raw_status)"
	assert_eq "$name: one response" 1 "$(raw_nresponses)"
	assert_eq "$name: backend received nothing (bytes)" "$b0" "$(be_stats b1 bytes)"
	assert_eq "$name: backend received nothing (requests)" "$r0" "$(be_stats b1 requests)"
	raw "$CLEAN"
	assert_eq "$name: a clean request afterwards works" 200 "$(raw_status)"
}

# ------------------------------------------------------------------ malformed first chunk
nothing "chunk size overflows" "${CH}FFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n"
nothing "chunk size 0x prefix" "${CH}0x5\r\nhello\r\n0\r\n\r\n"
nothing "chunk size trailing whitespace" "${CH}5 \r\nhello\r\n0\r\n\r\n"
nothing "quoted chunk extension with CRLF inside" "${CH}5;a=\"x\r\ny\"\r\nhello\r\n0\r\n\r\n"
nothing "chunk data longer than its size" "${CH}5\r\nhelloXX\r\n0\r\n\r\n"
nothing "bare LF after chunk size" "${CH}5\nhello\r\n0\r\n\r\n"
nothing "negative chunk size" "${CH}-5\r\nhello\r\n0\r\n\r\n"
# A later chunk inside the first body_buffer bytes is checked too.
nothing "bad chunk after 10 KiB of good ones" \
    "${CH}2800\r\n$(head -c 10240 /dev/zero | tr '\0' a)\r\nzz\r\nhello\r\n0\r\n\r\n"
nothing "bad last-chunk trailer" "${CH}5\r\nhello\r\n0\r\nbad trailer\r\n\r\n"

# ------------------------------------------------------------------ buffered: sized
raw "${CH}5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
j=$(body_of "$WORK/raw.out")
assert_eq "small chunked body: 200" 200 "$(raw_status)"
assert_eq "small chunked body: arrives sized" "11 length" \
    "$(jq -r '"\(.body_length) \(.framing)"' <<<"$j")"
assert_eq "small chunked body: Content-Length 11 at the backend" 11 "$(json_headers "$j" Content-Length)"
assert_eq "small chunked body: no Transfer-Encoding at the backend" "" \
    "$(json_headers "$j" Transfer-Encoding)"
raw "${CH}0\r\n\r\n"
j=$(body_of "$WORK/raw.out")
assert_eq "empty chunked body: Content-Length 0" "0 none 0" \
    "$(jq -r '"\(.body_length) \(.framing)"' <<<"$j") $(json_headers "$j" Content-Length)"
head -c 65536 /dev/urandom >"$WORK/64k.bin"
sha=$(sha256sum <"$WORK/64k.bin" | cut -c1-64)
j=$(gcurl -X POST -H 'Transfer-Encoding: chunked' -H 'Expect:' -T "$WORK/64k.bin" "$U/up/64k")
assert_eq "chunked body of exactly body_buffer: sized, intact" "65536 length $sha" \
    "$(jq -r '"\(.body_length) \(.framing) \(.body_sha256)"' <<<"$j")"
j=$(gcurl -X POST -H 'Expect:' --data-binary @"$WORK/64k.bin" "$U/up/64kcl")
assert_eq "Content-Length body of body_buffer: intact" "65536 length $sha" \
    "$(jq -r '"\(.body_length) \(.framing) \(.body_sha256)"' <<<"$j")"

# The head waits for the body: half a body, a pause, the rest.
REQ='POST /up/slow HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection: close\r\n\r\n01234'
hlen=$(printf '%b' "$REQ" | wc -c)
r0=$(be_stats b1 requests)
printf '%b56789' "$REQ" | timeout 20 "$RAW" --port "$PX_PORT" --trickle-after "$hlen" \
    --trickle-ms 500 --expect-close --timeout-ms 5000 >"$WORK/slow.out" 2>"$WORK/slow.err" &
bg=$!
sleep 1
assert_eq "buffered: no backend contact while the body is incomplete" "$r0" "$(be_stats b1 requests)"
wait "$bg"
assert_match "buffered: then answered" "$(head -n 1 "$WORK/slow.out")" '^HTTP/1.1 200 '
assert_contains "buffered: whole body arrived" "$(cat "$WORK/slow.out")" '"body_length":10'

# ------------------------------------------------------------------ over body_buffer: streams
head -c 300000 /dev/urandom >"$WORK/big.bin"
sha=$(sha256sum <"$WORK/big.bin" | cut -c1-64)
j=$(gcurl -X POST -H 'Transfer-Encoding: chunked' -H 'Expect:' -T "$WORK/big.bin" "$U/up/big")
assert_eq "chunked body over body_buffer: streamed chunked, intact" "300000 chunked $sha" \
    "$(jq -r '"\(.body_length) \(.framing) \(.body_sha256)"' <<<"$j")"
j=$(gcurl -X POST -H 'Expect:' --data-binary @"$WORK/big.bin" "$U/up/bigcl")
assert_eq "Content-Length body over body_buffer: intact" "300000 length $sha" \
    "$(jq -r '"\(.body_length) \(.framing) \(.body_sha256)"' <<<"$j")"
# A framing error past the first body_buffer bytes: the backend got the
# head and the start (as when streaming), never a complete request.
c0=$(be_stats b1 completed)
printf '%b' "$CH" >"$WORK/late.req"
for i in 1 2 3 4 5 6 7 8 9; do printf '2800\r\n%s\r\n' "$(head -c 10240 /dev/zero | tr '\0' b)"; done >>"$WORK/late.req"
printf 'zz\r\n0\r\n\r\n' >>"$WORK/late.req"
timeout 20 "$RAW" --port "$PX_PORT" --file "$WORK/late.req" --expect-close --timeout-ms 3000 \
    >"$WORK/raw.out" 2>"$WORK/raw.err"
assert_match "bad chunk after body_buffer bytes: 400 or a close" "$(raw_status)" '^(400|none)$'
assert_eq "bad chunk after body_buffer bytes: no complete request" "$c0" "$(be_stats b1 completed)"

# ------------------------------------------------------------------ buffer_body: false
REQ='POST /stream/slow HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection: close\r\n\r\n01234'
r0=$(be_stats b1 requests)
printf '%b56789' "$REQ" | timeout 20 "$RAW" --port "$PX_PORT" --trickle-after "$hlen" \
    --trickle-ms 500 --expect-close --timeout-ms 5000 >"$WORK/slow.out" 2>"$WORK/slow.err" &
bg=$!
c0=$(be_stats b1 completed)
if wait_until 2 bash -c "[ \"\$(curl -s --max-time 2 $(be_url b1)/__stats | jq -c '[.requests, .completed]')\" = '[$((r0 + 1)),$c0]' ]"; then
	pass "buffer_body: false: the head reaches the backend before the body is complete"
else fail "buffer_body: false: the head reaches the backend before the body is complete" \
    "backend $(be_stats b1 | jq -c '[.requests, .completed]'), before [$r0,$c0]"; fi
wait "$bg"
assert_match "buffer_body: false: answered" "$(head -n 1 "$WORK/slow.out")" '^HTTP/1.1 200 '
raw "POST /stream/c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
assert_eq "buffer_body: false: chunked stays chunked" "5 chunked" \
    "$(body_of "$WORK/raw.out" | jq -r '"\(.body_length) \(.framing)"')"

# ------------------------------------------------------------------ 100-continue
b0=$(be_stats b1 bytes)
raw "POST /e100 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" --timeout-ms 1500
assert_contains "Expect: 100-continue: gridfront answers 100 itself" "$RAW_OUT" "HTTP/1.1 100 Continue"
assert_eq "Expect: 100-continue: nothing sent up before the body" "$b0" "$(be_stats b1 bytes)"
t=$(gcurl -o "$WORK/e100.json" -w '%{time_total}' --expect100-timeout 10 \
    -H 'Expect: 100-continue' -X POST --data-binary @"$WORK/64k.bin" "$U/up/expect")
assert_eq "Expect: 100-continue upload: body intact" "65536 length" \
    "$(jq -r '"\(.body_length) \(.framing)"' "$WORK/e100.json")"
assert_le "Expect: 100-continue answered promptly (curl waited ${t}s, not its 10 s)" "${t%.*}" 8
assert_eq "Expect is not forwarded" "" "$(json_headers "$(cat "$WORK/e100.json")" Expect)"
b0=$(be_stats b1 bytes)
raw "POST /denied/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n" --timeout-ms 1500
assert_eq "Expect: 100-continue on a refused request: 403" 403 "$(raw_status)"
assert_not_contains "Expect: 100-continue on a refused request: no 100" "$RAW_OUT" "HTTP/1.1 100"
assert_eq "Expect: 100-continue on a refused request: backend received nothing" "$b0" "$(be_stats b1 bytes)"

stop_proxy

# ------------------------------------------------------------------ the budget
# body_buffer_total is two 64 KiB steps (128 KiB): a body with no share
# waits while the others hold it all, and a wait longer than body_idle
# ends in a 408; a body that holds a share and needs more streams on.
PX_PORT=
ADMIN_PORT=$(free_port)
std_conf "$WORK/pool.yaml" "$(route / b1)" "limits:
  body_buffer: 128k
  body_buffer_total: 128k
timeouts:
  body_idle: 3s
admin: {address: 127.0.0.1:$ADMIN_PORT}"
start_proxy "$WORK/pool.yaml"

# metric NAME: the value of a series of /metrics.
metric() { curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
# reserved_is N: the budget reserved now is N bytes.
reserved_is() { [ "$(metric gridfront_body_buffer_bytes)" = "$1" ]; }

# mkreq FILE PATH LEN: a Content-Length POST of LEN zero bytes.
mkreq() {
	{ printf 'POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' "$2" "$3"
	  head -c "$3" /dev/zero; } >"$1"
}
# hlen PATH LEN: the length of that request's head.
hlen() { printf 'POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' "$1" "$2" | wc -c; }

# A holds 100000 bytes of budget and pauses 1.2 s before its last byte;
# B (40000 bytes, sent at once) does not fit and waits for A.
mkreq "$WORK/a.req" /pool/a 100000
mkreq "$WORK/b.req" /pool/b 40000
c0=$(be_stats b1 completed)
timeout 20 "$RAW" --port "$PX_PORT" --file "$WORK/a.req" --trickle-after $(($(hlen /pool/a 100000) + 99999)) \
    --trickle-ms 1200 --expect-close --timeout-ms 5000 >"$WORK/a.out" 2>"$WORK/a.err" &
pa=$!
wait_until 5 reserved_is 100000 || note "budget: A's reservation not seen"
timeout 20 "$RAW" --port "$PX_PORT" --file "$WORK/b.req" --expect-close --timeout-ms 5000 \
    >"$WORK/b.out" 2>"$WORK/b.err" &
pb=$!
wait "$pa" "$pb"
assert_match "budget: the first body is answered" "$(head -n 1 "$WORK/a.out")" '^HTTP/1.1 200 '
assert_match "budget: the waiting body is answered once the first is gone" \
    "$(head -n 1 "$WORK/b.out")" '^HTTP/1.1 200 '
assert_contains "budget: the waiting body arrived whole" "$(cat "$WORK/b.out")" '"body_length":40000'
tb=$(awk '/^ELAPSED_MS/{print $2}' "$WORK/b.err")
assert_ge "budget: the second body waited for the first (${tb} ms)" "${tb:-0}" 600
assert_eq "budget: both completed at the backend" $((c0 + 2)) "$(be_stats b1 completed)"

# C keeps its budget by trickling a byte every 500 ms (never idle for
# body_idle); D waits longer than body_idle for budget: 408, nothing sent.
mkreq "$WORK/c.req" /pool/c 100008
mkreq "$WORK/d.req" /pool/d 40000
r0=$(be_stats b1 requests)
timeout 20 "$RAW" --port "$PX_PORT" --file "$WORK/c.req" --trickle-after $(($(hlen /pool/c 100008) + 100000)) \
    --trickle-ms 500 --expect-close --timeout-ms 8000 >"$WORK/c.out" 2>"$WORK/c.err" &
pc=$!
wait_until 5 reserved_is 100008 || note "budget: C's reservation not seen"
timeout 20 "$RAW" --port "$PX_PORT" --file "$WORK/d.req" --expect-close --timeout-ms 8000 \
    >"$WORK/d.out" 2>"$WORK/d.err" &
pd=$!
wait "$pd"
assert_match "budget: a wait over body_idle gets 408" "$(head -n 1 "$WORK/d.out")" '^HTTP/1.1 408 '
td=$(awk '/^ELAPSED_MS/{print $2}' "$WORK/d.err")
assert_ge "budget: ... after body_idle (${td} ms)" "${td:-0}" 2500
assert_eq "budget: the timed-out body never reached the backend" "$r0" "$(be_stats b1 requests)"
wait "$pc"
assert_match "budget: the trickling body still completes" "$(head -n 1 "$WORK/c.out")" '^HTTP/1.1 200 '

# F takes one step (60000 of 100000 bytes), G (60000 bytes, its last one
# 2.5 s late) takes most of the rest; F's second step no longer fits, so
# F streams on instead of waiting for G.
mkreq "$WORK/f.req" /pool/f 100000
mkreq "$WORK/g.req" /pool/g 60000
timeout 20 "$RAW" --port "$PX_PORT" --file "$WORK/f.req" --split $(($(hlen /pool/f 100000) + 60000)) \
    --delay-ms 1000 --expect-close --timeout-ms 8000 >"$WORK/f.out" 2>"$WORK/f.err" &
pf=$!
sleep 1.3
timeout 20 "$RAW" --port "$PX_PORT" --file "$WORK/g.req" --trickle-after $(($(hlen /pool/g 60000) + 59999)) \
    --trickle-ms 2500 --expect-close --timeout-ms 8000 >"$WORK/g.out" 2>"$WORK/g.err" &
pg=$!
wait "$pf" "$pg"
assert_match "budget: a body holding a share streams on: answered" "$(head -n 1 "$WORK/f.out")" '^HTTP/1.1 200 '
assert_contains "budget: ... whole" "$(cat "$WORK/f.out")" '"body_length":100000'
tf=$(awk '/^ELAPSED_MS/{print $2}' "$WORK/f.err")
assert_le "budget: ... without waiting for the other body (${tf} ms)" "${tf:-99999}" 3200
assert_match "budget: the other body is answered too" "$(head -n 1 "$WORK/g.out")" '^HTTP/1.1 200 '
raw "POST /pool/after HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
assert_eq "budget: all released afterwards" 200 "$(raw_status)"
wait_until 2 reserved_is 0
assert_eq "metrics: no budget reserved once all is done" 0 "$(metric gridfront_body_buffer_bytes)"
assert_ge "metrics: the waits were counted" "$(metric gridfront_body_buffer_waits_total)" 2

# body_idle for a body that stops coming while being buffered.
r0=$(be_stats b1 requests)
raw "POST /idle HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789" --timeout-ms 8000
assert_eq "body_idle while buffering: 408" 408 "$(raw_status)"
assert_eq "body_idle while buffering: nothing reached the backend" "$r0" "$(be_stats b1 requests)"

stop_proxy
finish
