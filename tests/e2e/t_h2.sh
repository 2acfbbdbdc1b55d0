#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# HTTP/2 to clients (issue 15), end to end with client certificates: ALPN
# offers h2 (and only http/1.1 with tls.http2: false); curl --http2 and
# nghttp get the same identity headers, routing and answers as HTTP/1.1;
# the same requests sent both ways reach the backend as the same HTTP/1.1
# request (header names lower-cased, cookie crumbs joined with "; ");
# many concurrent streams share one connection; 100-continue, a large
# upload and a large download (chunked and sized) work; requests that
# break RFC 9113 8 (authority/host disagreement, CONNECT) reach no
# backend; the access log says HTTP/2.0.

. "$(dirname "$0")/lib.sh"

command -v nghttp >/dev/null || die "nghttp is not installed (nghttp2-client)"

start_backend echo
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
BE=$(be_url echo)
H1_PORT=$(free_port)
ADMIN_PORT=$(free_port)
routes="  - path: /cert/
    backends: [$BE]
  - path: /none/
    auth: none
    backends: [$BE]
$(route /size/ echo)
$(route /chunked/ echo)
$(route /close/ echo)
$(route /slow/ echo)
$(route /early/ echo)"
extra="auth:
  ca_path: $PKI/certificates
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  hmac_key: $WORK/hmac.key
log:
  access: $WORK/access.log
admin:
  address: 127.0.0.1:$ADMIN_PORT
timeouts:
  body_idle: 3s
  shutdown_grace: 10s"
std_conf "$WORK/h2.yaml" "$routes" "$extra"
# A second listener with HTTP/2 off.
python3 - "$WORK/h2.yaml" "$H1_PORT" "$PKI" <<'EOF'
import sys
p, port, pki = sys.argv[1:]
s = open(p).read()
s = s.replace("routes:\n", "  - address: 127.0.0.1:%s\n    tls: {certificate: %s/server.pem, key: %s/server.key, http2: false}\nroutes:\n" % (port, pki, pki), 1)
open(p, "w").write(s)
EOF
start_proxy "$WORK/h2.yaml"
U=$(px_url)
ALICE=$PKI/creds/alice.pem

# ------------------------------------------------------------------ ALPN
v=$(gcurl --http2 -o /dev/null -w '%{http_version}' --cert "$ALICE" "$U/none/a")
assert_eq "ALPN: curl --http2 gets HTTP/2" 2 "$v"
v=$(gcurl -o /dev/null -w '%{http_version}' --cert "$ALICE" "$U/none/a")
assert_eq "ALPN: curl --http1.1 still gets HTTP/1.1" 1.1 "$v"
v=$(gcurl --http2 -o /dev/null -w '%{http_version}' \
    "https://127.0.0.1:$H1_PORT/none/a")
assert_eq "tls.http2: false: ALPN gives http/1.1 to an h2 client" 1.1 "$v"
alpn=$(timeout 10 openssl s_client -connect "127.0.0.1:$PX_PORT" -alpn h2,http/1.1 \
    -CAfile "$PKI/ca-bundle.pem" </dev/null 2>/dev/null | grep -a '^ALPN protocol')
assert_eq "openssl s_client: server selects h2" "ALPN protocol: h2" "$alpn"

# ------------------------------------------------------------------ basics
j=$(gcurl --http2 --cert "$ALICE" "$U/cert/x?q=1")
assert_eq "h2 GET with a certificate reaches the backend" "/cert/x?q=1" \
    "$(jq -r .target <<<"$j")"
assert_eq "h2 GET: backend speaks HTTP/1.1" "HTTP/1.1" "$(jq -r .version <<<"$j")"
assert_eq "h2 GET: identity from the connection's certificate" alice \
    "$(json_headers "$j" cms-authn-login)"
code=$(gcurl --http2 -o /dev/null -w '%{http_code}' "$U/cert/x")
assert_eq "h2 GET without a certificate on a cert route: 403" 403 "$code"
# A refused upload: the client gets its 403 whole, whatever it still
# sends (dropped, then RST_STREAM NO_ERROR after 1 MiB).
head -c 5000000 /dev/urandom >"$WORK/deny.bin"
code=$(gcurl --http2 -o /dev/null -w '%{http_code}' --data-binary @"$WORK/deny.bin" \
    "$U/cert/x")
assert_eq "h2 5 MB upload without a certificate: 403, curl exits 0 ($?)" 403 "$code"
head -c 500000 "$WORK/deny.bin" >"$WORK/deny2.bin"
code=$(gcurl --http2 -o /dev/null -w '%{http_code}' --data-binary @"$WORK/deny2.bin" \
    "$U/cert/x")
assert_eq "h2 500 kB upload without a certificate: 403, curl exits 0 ($?)" 403 "$code"
code=$(gcurl --http2 -o /dev/null -w '%{http_code}' --cert "$ALICE" "$U/nowhere")
assert_eq "h2 GET with no route: 404" 404 "$code"
code=$(gcurl --http2 -o /dev/null -w '%{http_code}' --cert "$ALICE" \
    "$U/cert/a;jsessionid=1/b")
assert_eq "h2 path parameters refused as on HTTP/1.1: 400" 400 "$code"
h=$(gcurl --http2 -D - -o /dev/null --cert "$ALICE" "$U/none/chunked/1000")
assert_not_contains "h2 response: no transfer-encoding" "$h" "transfer-encoding"
assert_not_contains "h2 response: no connection header" "$h" "connection:"
printf 'hello, backend\n%.0s' $(seq 1 1000) >"$WORK/post.txt"
exp=$(sha256sum "$WORK/post.txt" | cut -c1-64)
j=$(gcurl --http2 --cert "$ALICE" --data-binary @"$WORK/post.txt" "$U/cert/up")
assert_eq "h2 POST body arrives whole" "$exp" "$(jq -r .body_sha256 <<<"$j")"

# ------------------------------------------------- same request both ways
# What the backend recorded, minus what differs per connection, with
# header names lower-cased.
norm() {
	jq -S -c 'del(.conn, .req, .peer) |
	    .headers |= map([(.[0] | ascii_downcase), .[1]])'
}
both() {
	local desc=$1; shift
	local a b
	a=$(gcurl --http1.1 --cert "$ALICE" "$@" | norm)
	b=$(gcurl --http2 --cert "$ALICE" "$@" | norm)
	if [ -n "$a" ] && [ "$a" == "$b" ]; then pass "both ways: $desc"
	else fail "both ways: $desc" "h1: $a" "h2: $b"; fi
}
both "GET with headers and query" -H 'X-Custom: Some Value' \
    -H 'Accept-Language: en' "$U/cert/same?x=1&y=%41"
both "GET with a cookie" -b 'a=1; b=2' "$U/cert/cookie"
both "POST with a body" --data-binary @"$WORK/post.txt" \
    -H 'Content-Type: text/plain' "$U/cert/post"
both "PUT, auth: none" -X PUT --data-binary 'x=1' "$U/none/put"
both "identity headers from the client are stripped" \
    -H 'cms-authn-login: mallory' -H 'X-Forwarded-For: 1.2.3.4' "$U/cert/strip"
# Cookie crumbs (RFC 9113 8.2.3): nghttp sends two cookie fields.
a=$(gcurl --http1.1 --cert "$ALICE" -H 'Cookie: a=1; b=2' "$U/cert/crumbs" | norm)
b=$(timeout "$T_STEP" nghttp --cert "$ALICE" --key "$ALICE" \
    -H 'cookie: a=1' -H 'cookie: b=2' -H 'user-agent: curl/7.88.1' \
    -H 'accept: */*' "$U/cert/crumbs" 2>/dev/null | norm)
assert_eq "cookie crumbs joined with '; ' as one cookie header" \
    "$(jq -c '[.headers[] | select(.[0] == "cookie")]' <<<"$a")" \
    "$(jq -c '[.headers[] | select(.[0] == "cookie")]' <<<"$b")"

# ------------------------------------------------- recycled streams
# One connection, one stream after another: a finished stream's state is
# reused for the next (proxy/h2.c's free list), so nothing of one request
# may show in the next.  Each line: path, status, then what the backend
# saw (method, target, which of cookie/content-length/transfer-encoding/
# x-one/host it got, body hash prefix).
h2_python
r=$(timeout "$T_STEP" "$H2_PY" "$E2E_DIR/h2recycle.py" 127.0.0.1 "$PX_PORT" \
    "$PKI/ca-bundle.pem" "$ALICE" "127.0.0.1:$PX_PORT" 2>&1)
hs() { printf '%s' "$1" | sha256sum | cut -c1-12; }
e=$(hs ""); rl() { sed -n "${1}p" <<<"$r"; }
assert_eq "recycled streams: POST with content-length, cookie, x-one" \
    "/cert/r1 200 POST /cert/r1 content-length,cookie,host,x-one $(hs hello)" "$(rl 1)"
# (Sent chunked by us, buffered whole by forward.c: a content-length.)
assert_eq "recycled streams: next POST without content-length, body whole" \
    "/cert/r2 200 POST /cert/r2 content-length,host $(hs abc)" "$(rl 2)"
assert_eq "recycled streams: GET after them carries none of theirs" \
    "/cert/r3 200 GET /cert/r3 host $e" "$(rl 3)"
assert_eq "recycled streams: a host header" \
    "/cert/r4 200 GET /cert/r4 host $e" "$(rl 4)"
assert_eq "recycled streams: a host header again (not 'more than one')" \
    "/cert/r5 200 GET /cert/r5 host $e" "$(rl 5)"
assert_eq "recycled streams: te: gzip refused (PROTOCOL_ERROR)" \
    "/cert/r6 RST 1" "$(rl 6)"
assert_eq "recycled streams: GET after a refused stream is answered" \
    "/cert/r7 200 GET /cert/r7 host $e" "$(rl 7)"
assert_eq "recycled streams: an upload the client resets" \
    "/cert/r8 RESET" "$(rl 8)"
assert_eq "recycled streams: GET after a reset stream is answered" \
    "/cert/r9 200 GET /cert/r9 host $e" "$(rl 9)"
# After 0.5 s idle the session's frame buffer pages went back (h2mem):
# the frames written into it afterwards must still be whole.
assert_eq "idle 0.5 s, then a GET on the same connection" \
    "/cert/r10 200 GET /cert/r10 host,x-one $e" "$(rl 10)"
assert_eq "idle 0.5 s again, then a POST on the same connection" \
    "/cert/r11 200 POST /cert/r11 content-length,host $(hs again)" "$(rl 11)"

# ------------------------------------------------- many streams, one conn
n0=$(be_stats echo requests)
out=$(timeout "$T_STEP" nghttp -n -s -m 60 --cert "$ALICE" --key "$ALICE" \
    "$U/cert/many" 2>&1)
n1=$(be_stats echo requests)
assert_eq "nghttp: 60 concurrent streams on one connection, all 200" 60 \
    "$(grep -c ' 200 ' <<<"$out")"
assert_eq "nghttp: the backend saw 60 requests" 60 $((n1 - n0))

# ------------------------------------------------------------ 1xx relay
h=$(gcurl --http2 -D - -o /dev/null "$U/early/x" | tr -d '\r')
assert_contains "h2: a backend's 103 Early Hints is relayed" "$h" "HTTP/2 103"
assert_contains "h2: with its Link header" "$h" "link: </style.css>; rel=preload"
assert_not_contains "h2: a backend's 100 is dropped" "$h" "HTTP/2 100"
assert_contains "h2: then the final answer" "$h" "HTTP/2 200"
h=$(gcurl --http1.1 -D - -o /dev/null "$U/early/x" | tr -d '\r')
assert_not_contains "HTTP/1.1: 1xx from the backend still dropped" "$h" "HTTP/1.1 103"

# ------------------------------------------------ 100-continue, big bodies
head -c 3000000 /dev/urandom >"$WORK/big.bin"
exp=$(sha256sum "$WORK/big.bin" | cut -c1-64)
j=$(gcurl --http2 --cert "$ALICE" -H 'Expect: 100-continue' \
    --data-binary @"$WORK/big.bin" "$U/cert/big")
assert_eq "h2 3 MB upload with Expect: 100-continue arrives whole" "$exp" \
    "$(jq -r .body_sha256 <<<"$j")"
j=$(timeout "$T_STEP" nghttp --expect-continue -d "$WORK/post.txt" \
    --cert "$ALICE" --key "$ALICE" "$U/cert/continue" 2>/dev/null)
assert_eq "nghttp --expect-continue: body arrives" \
    "$(stat -c %s "$WORK/post.txt")" "$(jq -r .body_length <<<"$j")"
for kind in size chunked close; do
	a=$(gcurl --http1.1 "$U/$kind/5000000" | sha256sum)
	b=$(gcurl --http2 "$U/$kind/5000000" | sha256sum)
	l=$(gcurl --http2 -o /dev/null -w '%{size_download}' "$U/$kind/5000000")
	assert_eq "h2 5 MB $kind download: complete" 5000000 "$l"
	assert_eq "h2 5 MB $kind download: same bytes as HTTP/1.1" "$a" "$b"
done
code=$(gcurl --http2 -o /dev/null -w '%{http_code}' -I "$U/size/100")
assert_eq "h2 HEAD: 200" 200 "$code"

# ------------------------------------------------------------ backpressure
# A fast h2 uploader to a slow backend and a slow h2 reader of a fast
# download: flow control holds them back, nothing is buffered whole.
SLOW=$((8 * 1024 * 1024))
head -c "$SLOW" /dev/urandom >"$WORK/slow.bin"
slow_sha=$(sha256sum "$WORK/slow.bin" | cut -c1-64)
gcurl --http2 --data-binary @"$WORK/slow.bin" -H 'X-Backend-Rate: 4000000' \
    "$U/none/slowbe" >"$WORK/sb.json" &
p1=$!
gcurl --http2 --limit-rate 4M "$U/size/$SLOW" -o "$WORK/sr.bin" &
p2=$!
wait "$p1" "$p2"
assert_eq "h2 8 MiB upload to a slow backend intact" "$slow_sha" \
    "$(jq -r .body_sha256 "$WORK/sb.json")"
assert_eq "h2 8 MiB download to a slow reader intact" \
    "$("$BACKEND" --gen-sha256 "$SLOW")" "$(sha256sum <"$WORK/sr.bin" | cut -c1-64)"
peak=$(curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk '$1 == "gridfront_exchange_buffered_peak_bytes" { print $2 }')
assert_le "h2: most bytes one exchange held buffered < 2 MiB (${peak})" \
    "${peak:-99999999}" $((2 * 1024 * 1024))

# The streams of one connection share one limits.body_buffer (1 MiB):
# of two 800 kB bodies without content-length sent at once, one is
# buffered whole (sent sized), the other streams on (chunked); two of
# 300 kB both fit.
F="python3 $E2E_DIR/h2flood.py 127.0.0.1 $PX_PORT $PKI/ca-bundle.pem"
r=$(timeout "$T_STEP" $F uploads 800000 2>&1 | tr ' ' '\n' | sort | tr '\n' ' ')
assert_eq "two 800 kB h2 uploads share body_buffer: one buffered, one streamed" \
    "chunked length " "$r"
r=$(timeout "$T_STEP" $F uploads 300000 2>&1)
assert_eq "two 300 kB h2 uploads: both buffered" "length length" "$r"

# ------------------------------------------------ strictness (RFC 9113 8)
n0=$(be_stats echo requests)
timeout "$T_STEP" nghttp -v -H 'host: other.example' --cert "$ALICE" --key "$ALICE" \
    "$U/none/hostmix" >"$WORK/ng.out" 2>&1
timeout "$T_STEP" nghttp -v -H ':method: CONNECT' --cert "$ALICE" --key "$ALICE" \
    "$U/none/connect" >>"$WORK/ng.out" 2>&1
n1=$(be_stats echo requests)
assert_eq "host vs :authority, CONNECT: nothing reaches the backend" 0 $((n1 - n0))
assert_contains "host vs :authority: stream reset" "$(cat "$WORK/ng.out")" \
    "PROTOCOL_ERROR"

# Frame by frame: each malformed request is reset with PROTOCOL_ERROR (1)
# and reaches no backend; trailers without identity headers are fine.
n0=$(be_stats echo requests)
for c in te connection upper colon ws nul absolute pseudo-after no-path \
    dup-path protocol cl-more cl-less trailer-identity; do
	assert_eq "malformed ($c): RST_STREAM PROTOCOL_ERROR" "RST 1" \
	    "$(timeout "$T_STEP" python3 "$E2E_DIR/h2flood.py" 127.0.0.1 \
	    "$PX_PORT" "$PKI/ca-bundle.pem" "bad-$c" 0 2>&1)"
done
n1=$(be_stats echo requests)
assert_eq "malformed requests: nothing reached the backend" 0 $((n1 - n0))
assert_eq "HPACK table size update over ours: GOAWAY COMPRESSION_ERROR" \
    "GOAWAY 9" "$(timeout "$T_STEP" python3 "$E2E_DIR/h2flood.py" 127.0.0.1 \
    "$PX_PORT" "$PKI/ca-bundle.pem" bad-hpack-size 0 2>&1)"
# 120 streams at once against max_concurrent_streams 100: 20 are refused
# (RFC 9113 5.1.2), the others answered.
assert_eq "streams over max_concurrent_streams: REFUSED_STREAM" \
    "ANSWERED 100 REFUSED 20" "$(timeout "$T_STEP" python3 "$E2E_DIR/h2flood.py" \
    127.0.0.1 "$PX_PORT" "$PKI/ca-bundle.pem" streams 120 2>&1)"
assert_eq "harmless trailers: answered" "HEADERS" \
    "$(timeout "$T_STEP" python3 "$E2E_DIR/h2flood.py" 127.0.0.1 \
    "$PX_PORT" "$PKI/ca-bundle.pem" bad-trailer-ok 0 2>&1)"

# ------------------------------------------------------------ limits
code=$(gcurl --http2 -o /dev/null -w '%{http_code}' \
    -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$U/none/big")
assert_eq "h2 header over limits.max_header_field: 431 (the HTTP/1.1 limit)" \
    431 "$code"
code=$(gcurl --http2 -o /dev/null -w '%{http_code}' \
    $(for i in $(seq 1 8); do printf -- "-H X-Big$i:%s " \
    "$(head -c 6000 /dev/zero | tr '\0' a)"; done) "$U/none/big")
assert_eq "h2 header list over the HTTP/1.1 head limit: 431" 431 "$code"
t0=$(now_ms)
r=$(timeout "$T_STEP" python3 "$E2E_DIR/h2flood.py" 127.0.0.1 "$PX_PORT" \
    "$PKI/ca-bundle.pem" stall 1000000 2>&1)
t=$(($(now_ms) - t0))
assert_eq "window-zero stall: stream reset (INTERNAL_ERROR) after body_idle" \
    "RST 2" "$r"
assert_ge "window-zero stall: not before body_idle (${t} ms)" "$t" 2900
r=$(timeout "$T_STEP" python3 "$E2E_DIR/h2flood.py" 127.0.0.1 "$PX_PORT" \
    "$PKI/ca-bundle.pem" stall-local 0 2>&1)
assert_eq "window-zero stall of a local answer: stream reset after body_idle" \
    "RST 2" "$r"

# The memory bound (README "HTTP/2"): 100 streams of 10 MB downloads to a
# client whose windows are zero.  RSS grows by the buffers, not the bodies.
rss0=$(px_rss_kb)
timeout "$T_STEP" python3 "$E2E_DIR/h2flood.py" 127.0.0.1 "$PX_PORT" \
    "$PKI/ca-bundle.pem" stall-many 10000000 >"$WORK/held.out" 2>&1 &
hpid=$!
sleep 2
rss1=$(px_rss_kb)
wait "$hpid"
note "measure: 100 stalled h2 streams of 10 MB: RSS ${rss0} -> ${rss1} kB"
if sanitized; then
	note "RSS bound not checked under ASan"
else
	assert_le "100 stalled 10 MB streams: RSS grew < 32 MiB (${rss0} -> ${rss1} kB)" \
	    $((rss1 - rss0)) $((32 * 1024))
fi

# ------------------------------------------------------------------ floods
# Each flood ends its connection with GOAWAY ENHANCE_YOUR_CALM (0xb) and
# the next client is served.
F="python3 $E2E_DIR/h2flood.py 127.0.0.1 $PX_PORT $PKI/ca-bundle.pem"
for m in "rapid-reset 500" "ping 3000" "settings 3000" "priority 3000" \
    "empty-data 3000" "continuation 100"; do
	assert_eq "flood ${m% *}: GOAWAY ENHANCE_YOUR_CALM" "GOAWAY 11" \
	    "$(timeout "$T_STEP" $F $m 2>&1)"
done
assert_eq "after the floods, 50 streams on a new connection are served" \
    "OK 50" "$(timeout "$T_STEP" $F ok 50 2>&1)"
fl=$(curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk '$1 == "gridfront_h2_floods_total" { print $2 }')
assert_eq "metrics: gridfront_h2_floods_total counts the floods" 6 "$fl"
h2n=$(curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk '$1 == "gridfront_requests_by_protocol_total{protocol=\"h2\"}" { print $2 }')
assert_ge "metrics: requests by protocol count h2 streams (${h2n})" "${h2n:-0}" 100
m=$(curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics")
h2l=$(printf '%s\n' "$m" | awk '/^gridfront_requests_total\{/ &&
    /protocol="h2"/ { n += $2 } END { print n + 0 }')
assert_eq "metrics: gridfront_requests_total{protocol=\"h2\"} sums to the h2 requests" \
    "$h2n" "$h2l"
h1l=$(printf '%s\n' "$m" | awk '/^gridfront_requests_total\{/ &&
    /protocol="http\/1.1"/ { n += $2 } END { print n + 0 }')
assert_ge "metrics: HTTP/1.1 requests carry protocol=\"http/1.1\" (${h1l})" \
    "$h1l" 1
# The flood clients' connections end as gridfront reads their EOF: wait
# for the histogram to hold them.
spc_hist() {
	curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '
    $1 == "gridfront_h2_streams_per_connection_bucket{le=\"10\"}" { a = $2 }
    $1 == "gridfront_h2_streams_per_connection_bucket{le=\"100\"}" { b = $2 }
    $1 == "gridfront_h2_streams_per_connection_bucket{le=\"+Inf\"}" { i = $2 }
    $1 == "gridfront_h2_streams_per_connection_count" { c = $2 }
    $1 == "gridfront_h2_streams_per_connection_sum" { s = $2 }
    END { print (b > a), (i == c), (c >= 7), (s >= 50) }'
}
spc_ok() { [ "$(spc_hist)" = "1 1 1 1" ]; }
wait_until 5 spc_ok
spc=$(spc_hist)
assert_eq "metrics: streams per connection histogram (50-stream conn in le=100, +Inf = count, >= 7 conns, sum >= 50)" \
    "1 1 1 1" "$spc"

# ------------------------------------------------------------ access log
wait_until 5 grep -q '"GET /cert/many HTTP/2.0" 200' "$WORK/access.log"
assert_contains "access log: HTTP/2.0 for h2 streams" \
    "$(cat "$WORK/access.log")" '"GET /cert/many HTTP/2.0" 200'
assert_contains "access log: HTTP/1.1 still for HTTP/1.1" \
    "$(cat "$WORK/access.log")" '"GET /none/a HTTP/1.1" 200'
assert_true "proxy survived the HTTP/2 run" kill -0 "$PX_PID"

# ------------------------------------------------------------ SIGHUP reload
# A stream in flight finishes on its generation; new streams see the new
# configuration.
timeout "$T_STEP" nghttp --cert "$ALICE" --key "$ALICE" "$U/slow/1500" \
    >"$WORK/reload.out" 2>&1 &
cpid=$!
sleep 0.5
sed -i "s|^routes:|routes:\n  - path: /new/\n    auth: none\n    backends: [$BE]|" \
    "$WORK/h2.yaml"
kill -HUP "$PX_PID"
gen() { curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk '$1 == "gridfront_config_generation" { print $2 }'; }
wait_until 10 bash -c "[ \"\$(curl -s --max-time 2 http://127.0.0.1:$ADMIN_PORT/metrics | awk '\$1 == \"gridfront_config_generation\" { print \$2 }')\" = 2 ]"
assert_eq "SIGHUP: generation 2 in force" 2 "$(gen)"
wait "$cpid"
assert_contains "SIGHUP: the stream in flight finished" \
    "$(cat "$WORK/reload.out")" '"target":"/slow/1500"'
code=$(gcurl --http2 -o /dev/null -w '%{http_code}' "$U/new/x")
assert_eq "SIGHUP: a new h2 stream sees the new route" 200 "$code"

# ------------------------------------------------------------ SIGTERM drain
# An in-flight stream finishes; the client is told GOAWAY with the last
# stream id; the proxy exits once it is done.
timeout "$T_STEP" nghttp -v --cert "$ALICE" --key "$ALICE" "$U/slow/1500" \
    >"$WORK/drain.out" 2>&1 &
cpid=$!
sleep 0.5
pid=$PX_PID
kill -TERM "$pid"
wait_until 15 bash -c "! kill -0 $pid 2>/dev/null"
wait "$pid" 2>/dev/null
rc=$?
PX_PID=
wait "$cpid"
d=$(cat "$WORK/drain.out")
assert_contains "SIGTERM: GOAWAY with the last stream id" "$d" \
    "last_stream_id=13, error_code=NO_ERROR"
assert_contains "SIGTERM: the in-flight stream completed with 200" "$d" \
    "(stream_id=13) :status: 200"
assert_contains "SIGTERM: its body is whole" "$d" '"target":"/slow/1500"'
assert_eq "SIGTERM: exit status 0" 0 "$rc"
finish
