#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Bodies stream both ways: a 100 MiB upload and a 100 MiB download cross
# the proxy with matching SHA-256 (Content-Length and chunked, each way),
# Expect: 100-continue is honoured without curl's fallback delay,
# close-delimited responses arrive whole, 204/304/HEAD responses carry no
# body and leave the connection usable, trailers are never turned into
# headers, and the proxy's memory stays bounded while streaming (it never
# buffers a whole body).  Over more than 1 GiB of mixed traffic (fast
# uploads and downloads side by side, a slow uploader and a slow reader)
# the bytes one exchange holds buffered stay under a bound derived from
# limits.buffer_high and limits.body_buffer
# (gridfront_exchange_buffered_peak_bytes), in every
# build, and RSS growth stays under 64 MiB in the plain build.

. "$(dirname "$0")/lib.sh"

ADMIN_PORT=$(free_port)
start_backend b1
std_conf "$WORK/body.yaml" "$(route / b1)" "timeouts:
  upstream_response: 20s
  body_idle: 20s
admin: {address: 127.0.0.1:$ADMIN_PORT}"
# A plain listener beside the TLS one, for the mixed run.
PLAIN_PORT=$(free_port)
sed -i "/^    tls: /a\\  - address: 127.0.0.1:$PLAIN_PORT" "$WORK/body.yaml"
start_proxy "$WORK/body.yaml"
U=$(px_url)
BIG=$((100 * 1024 * 1024))
T_STEP=120

head -c "$BIG" /dev/urandom >"$WORK/big.bin"
big_sha=$(sha256sum "$WORK/big.bin" | cut -c1-64)
pat_sha=$("$BACKEND" --gen-sha256 "$BIG")

rss0=$(px_rss_kb)

# ------------------------------------------------------------------ upload
j=$(gcurl -X POST --data-binary @"$WORK/big.bin" -H 'Expect:' "$U/up/cl")
assert_eq "100 MiB Content-Length upload: length" "$BIG" "$(jq -r .body_length <<<"$j")"
assert_eq "100 MiB Content-Length upload: sha256" "$big_sha" "$(jq -r .body_sha256 <<<"$j")"
assert_eq "upload forwarded with Content-Length framing" length "$(jq -r .framing <<<"$j")"

j=$(gcurl -T "$WORK/big.bin" -X POST -H 'Transfer-Encoding: chunked' -H 'Expect:' "$U/up/chunked")
assert_eq "100 MiB chunked upload: length" "$BIG" "$(jq -r .body_length <<<"$j")"
assert_eq "100 MiB chunked upload: sha256" "$big_sha" "$(jq -r .body_sha256 <<<"$j")"
assert_eq "chunked upload forwarded chunked" chunked "$(jq -r .framing <<<"$j")"

# ------------------------------------------------------------------ download
got=$(gcurl "$U/size/$BIG" | sha256sum | cut -c1-64)
assert_eq "100 MiB Content-Length download: sha256" "$pat_sha" "$got"
got=$(gcurl "$U/chunked/$BIG" | sha256sum | cut -c1-64)
assert_eq "100 MiB chunked download: sha256" "$pat_sha" "$got"
h=$(gcurl -D - -o /dev/null "$U/size/12345")
assert_match "download keeps Content-Length" "$h" $'[Cc]ontent-[Ll]ength: 12345\r'

rss1=$(px_rss_kb)
if sanitized; then
	note "RSS bound not checked under ASan (${rss0} -> ${rss1} kB)"
else
	assert_le "proxy RSS grew by < 64 MiB over 400 MiB of bodies (${rss0} -> ${rss1} kB)" \
	    $((rss1 - rss0)) $((64 * 1024))
fi

# ------------------------------------------------------------------ mixed
# 6 x 100 MiB at once (3 uploads, CL and chunked, 3 downloads, TLS and
# plain) with slow
# peers of 16 MiB each beside them: a slow uploading client (4 MiB/s), a
# slow reading client (a record per 5 ms), a backend that reads an upload
# slowly and one that sends a download slowly (X-Backend-Rate, 4 MB/s).
# With the 400 MiB above and the 100 MiB Expect upload below, more than
# 1.1 GiB crosses the proxy.
metric() { curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print "-" }'; }
SLOW=$((16 * 1024 * 1024))
head -c "$SLOW" "$WORK/big.bin" >"$WORK/slow.bin"
slow_sha=$(sha256sum "$WORK/slow.bin" | cut -c1-64)
pids=()
for i in 1 2; do
	gcurl -X POST --data-binary @"$WORK/big.bin" -H 'Expect:' "$U/up/m$i" >"$WORK/mu$i.json" &
	pids+=($!)
done
# Upload 3 and download 3 use the plain listener.
gcurl -T "$WORK/big.bin" -X POST -H 'Transfer-Encoding: chunked' -H 'Expect:' \
    "http://127.0.0.1:$PLAIN_PORT/up/m3" >"$WORK/mu3.json" &
pids+=($!)
gcurl "$U/size/$BIG" -o "$WORK/md1.bin" & pids+=($!)
gcurl "$U/chunked/$BIG" -o "$WORK/md2.bin" & pids+=($!)
gcurl "http://127.0.0.1:$PLAIN_PORT/size/$BIG" -o "$WORK/md3.bin" & pids+=($!)
gcurl --limit-rate 4M -X POST --data-binary @"$WORK/slow.bin" -H 'Expect:' \
    "$U/up/slow" >"$WORK/ms.json" & pids+=($!)
gcurl -X POST --data-binary @"$WORK/slow.bin" -H 'Expect:' -H 'X-Backend-Rate: 4000000' \
    "$U/up/slowbe" >"$WORK/msb.json" & pids+=($!)
gcurl -H 'X-Backend-Rate: 4000000' "$U/size/$SLOW" -o "$WORK/msd.bin" & pids+=($!)
printf 'GET /size/%d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' "$SLOW" |
    timeout 30 "$RAW" --port "$PX_PORT" --slow-read-ms 5 --read-size 65536 \
    --timeout-ms 15000 >"$WORK/msr.out" 2>/dev/null & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
for i in 1 2 3; do
	assert_eq "mixed: upload $i of 100 MiB intact" "$big_sha" "$(jq -r .body_sha256 "$WORK/mu$i.json")"
	assert_eq "mixed: download $i of 100 MiB intact" "$pat_sha" \
	    "$(sha256sum <"$WORK/md$i.bin" | cut -c1-64)"
	rm -f "$WORK/md$i.bin"
done
assert_eq "mixed: slow 16 MiB upload intact" "$slow_sha" "$(jq -r .body_sha256 "$WORK/ms.json")"
assert_eq "mixed: 16 MiB upload to a slow backend intact" "$slow_sha" \
    "$(jq -r .body_sha256 "$WORK/msb.json")"
assert_eq "mixed: 16 MiB download from a slow backend intact" "$("$BACKEND" --gen-sha256 "$SLOW")" \
    "$(sha256sum <"$WORK/msd.bin" | cut -c1-64)"
assert_eq "mixed: slow 16 MiB reader got it all" "$("$BACKEND" --gen-sha256 "$SLOW")" \
    "$(tail -c "$SLOW" "$WORK/msr.out" | sha256sum | cut -c1-64)"
# Per exchange: the client's input (buffer_high + a head), its output
# (buffer_high + one backend read) and TLS records (80 KiB), the
# backend's input and output (buffer_high + one client read each), so
# about 6 x 64 KiB; plus, for an upload, the first limits.body_buffer
# (1 MiB by default) that is checked before it goes up in one piece.
# 2 MiB is far below any whole-body buffering of these 100 MiB bodies.
peak=$(metric gridfront_exchange_buffered_peak_bytes)
assert_le "mixed: most bytes one exchange held buffered < 2 MiB (${peak})" "$peak" $((2 * 1024 * 1024))
rss2=$(px_rss_kb)
if sanitized; then
	note "RSS bound not checked under ASan (${rss0} -> ${rss2} kB)"
else
	assert_le "proxy RSS grew by < 64 MiB over 1 GiB of mixed bodies (${rss0} -> ${rss2} kB)" \
	    $((rss2 - rss0)) $((64 * 1024))
	inuse=$(metric gridfront_heap_inuse_bytes)
	note "heap after the mixed run: in use ${inuse} B, free $(metric gridfront_heap_free_bytes) B, RSS ${rss2} kB"
fi

# ------------------------------------------------------------------ slow reader
# A client that reads slowly must not make the proxy buffer the body.
rss0=$(px_rss_kb)
printf 'GET /size/%d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' $((64 * 1024 * 1024)) |
    timeout 30 "$RAW" --port "$PX_PORT" --slow-read-ms 50 --read-size 16384 \
    --timeout-ms 3000 >"$WORK/slow.out" 2>"$WORK/slow.err"
rss1=$(px_rss_kb)
if sanitized; then
	note "RSS bound not checked under ASan (${rss0} -> ${rss1} kB)"
else
	assert_le "slow reader of 64 MiB: proxy RSS grew by < 32 MiB (${rss0} -> ${rss1} kB)" \
	    $((rss1 - rss0)) $((32 * 1024))
fi
wait_until 5 bash -c "[ \"\$(curl -s $(be_url b1)/__stats | jq .busy)\" = 0 ]"
assert_eq "abandoned slow download: its upstream transfer was torn down" 0 \
    "$(be_stats b1 busy)"

# ------------------------------------------------------------------ 100-continue
t=$(gcurl -o "$WORK/e100.json" -w '%{time_total}' --expect100-timeout 10 \
    -H 'Expect: 100-continue' -X POST --data-binary @"$WORK/big.bin" "$U/up/expect")
assert_eq "Expect: 100-continue upload: sha256" "$big_sha" "$(jq -r .body_sha256 "$WORK/e100.json")"
assert_le "Expect: 100-continue answered promptly (curl waited ${t}s, not its 10 s)" \
    "${t%.*}" 8
raw "POST /e100 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" --timeout-ms 2000
assert_contains "interim 100 Continue reaches the client before the body is sent" \
    "$RAW_OUT" "HTTP/1.1 100"

# ------------------------------------------------------------------ close-delimited
got=$(gcurl "$U/close/5000000" | sha256sum | cut -c1-64)
assert_eq "close-delimited response (5 MB): sha256" "$("$BACKEND" --gen-sha256 5000000)" "$got"
n=$(gcurl -o /dev/null -w '%{size_download}' "$U/close/0")
assert_eq "empty close-delimited response" 0 "$n"
r=$(gcurl -s -o /dev/null -o /dev/null -w '%{http_code} ' "$U/close/1000" "$U/a")
assert_eq "a request after a close-delimited response works" "200 200 " "$r"

# ------------------------------------------------------------------ 204 / 304 / HEAD
for code in 204 304; do
	raw "GET /status/$code HTTP/1.1\r\nHost: a\r\n\r\nGET /after-$code HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	assert_eq "$code then GET on one connection: 2 responses" 2 "$(raw_nresponses)"
	assert_match "$code answered" "$RAW_OUT" "^HTTP/1.1 $code"
	assert_contains "request after $code answered correctly" "$RAW_OUT" "\"target\":\"/after-$code\""
done
raw "HEAD /size/100000 HTTP/1.1\r\nHost: a\r\n\r\nGET /after-head HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_eq "HEAD then GET: 2 responses" 2 "$(raw_nresponses)"
assert_eq "HEAD keeps Content-Length" 100000 "$(raw_header Content-Length)"
assert_contains "request after HEAD answered correctly" "$RAW_OUT" '"target":"/after-head"'
assert_le "HEAD response carries no body" "$(wc -c <"$WORK/raw.out")" 2000
raw "HEAD /chunked/100000 HTTP/1.1\r\nHost: a\r\n\r\nGET /after-head2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_eq "HEAD of a chunked resource then GET: 2 responses" 2 "$(raw_nresponses)"
assert_contains "request after chunked HEAD answered correctly" "$RAW_OUT" '"target":"/after-head2"'

# ------------------------------------------------------------------ trailers
raw "POST /tr HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Evil-Trailer: 1\r\nHost: evil\r\n\r\n"
j=$(body_of "$WORK/raw.out")
assert_eq "request with trailers answered" 200 "$(raw_status)"
assert_eq "request trailer not forwarded as a header" "" "$(json_headers "$j" X-Evil-Trailer)"
assert_eq "trailer 'Host' did not become a second Host" 1 "$(json_headers "$j" Host | wc -l)"
assert_eq "body before the trailers intact" 5 "$(jq -r .body_length <<<"$j")"
h=$(gcurl -D - -o "$WORK/tr.bin" "$U/trailers/70000")
assert_eq "response with trailers: body intact" "$("$BACKEND" --gen-sha256 70000)" \
    "$(sha256sum <"$WORK/tr.bin" | cut -c1-64)"
assert_not_contains "response trailer not turned into a header" "$h" "X-Backend-Trailer"

# ------------------------------------------------------------------ pipelined bodies
raw "POST /p1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcPOST /p2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\nGET /p3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_eq "body requests pipelined: 3 responses" 3 "$(raw_nresponses)"
assert_match "pipelined bodies kept their boundaries" "$(tr -d '\r\n' <<<"$RAW_OUT")" \
    '"target":"/p1".*"body_length":3,.*"target":"/p2".*"body_length":2,.*"target":"/p3"'

stop_proxy
rm -f "$WORK/big.bin"	# 100 MiB: not worth keeping with a failed run
finish
