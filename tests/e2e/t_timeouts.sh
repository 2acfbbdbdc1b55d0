#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Client-side timeouts: a slowloris head (one byte at a time) is cut by
# request_head even though bytes keep arriving; a TCP client that never
# starts the TLS handshake is cut by handshake; an idle keep-alive
# connection is closed after keepalive; a request body that stops is cut
# by body_idle; a slowly trickled body that keeps moving is not cut.  While
# slowloris clients hold connections, others are still served.

. "$(dirname "$0")/lib.sh"

start_backend b1
std_conf "$WORK/timeouts.yaml" "$(route / b1)" "timeouts:
  handshake: 1s
  request_head: 1500ms
  keepalive: 1s
  body_idle: 1500ms
  upstream_response: 10s"
start_proxy "$WORK/timeouts.yaml"
U=$(px_url)

# ------------------------------------------------------------------ slowloris
r0=$(be_stats b1 requests)
raw "GET /slowloris HTTP/1.1\r\nHost: a\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n" \
    --trickle-ms 100 --timeout-ms 6000
t=$(raw_elapsed)
if raw_closed; then pass "slowloris head: connection closed"
else fail "slowloris head: connection closed" "$RAW_ERR"; fi
assert_le "slowloris head: closed within request_head + slack (${t} ms)" "$t" 4000
assert_ge "slowloris head: not closed before request_head (${t} ms)" "$t" 1300
assert_match "slowloris head: 408 or nothing" "$(raw_status)" '^(408|none)$'
assert_eq "slowloris head: nothing reached the backend" "$r0" "$(be_stats b1 requests)"

# The head timer runs from the first byte: trickling a body is fine.
head='POST /trickle-body HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\nConnection: close\r\n\r\n'
raw "${head}01234567890123456789" --trickle-after "$(printf '%b' "$head" | wc -c)" \
    --trickle-ms 150 --timeout-ms 5000
assert_eq "a trickled body that keeps moving is not cut (20 x 150 ms)" 200 "$(raw_status)"
j=$(body_of "$WORK/raw.out")
assert_eq "the trickled body arrived whole" 20 "$(jq -r .body_length <<<"$j" 2>/dev/null)"

# A body that stops half way is cut by body_idle.
raw "POST /stalled-body HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789" \
    --timeout-ms 6000
t=$(raw_elapsed)
if raw_closed; then pass "stalled request body: connection closed"
else fail "stalled request body: connection closed" "$RAW_ERR"; fi
assert_le "stalled request body: cut within body_idle + slack (${t} ms)" "$t" 4500
assert_ge "stalled request body: not cut before body_idle (${t} ms)" "$t" 1300

# ------------------------------------------------------------------ handshake
printf '' | timeout 10 "$RAW" --plain --port "$PX_PORT" --expect-close \
    --timeout-ms 6000 >/dev/null 2>"$WORK/hs.err"
t=$(awk '/^ELAPSED_MS/{print $2}' "$WORK/hs.err")
if grep -qE '^(CLOSED|RESET)$' "$WORK/hs.err"; then pass "no TLS handshake: connection closed"
else fail "no TLS handshake: connection closed" "$(cat "$WORK/hs.err")"; fi
assert_le "no TLS handshake: closed within handshake + slack (${t} ms)" "$t" 3500
# A handshake trickled byte by byte is cut too.
printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' | timeout 10 "$RAW" --plain \
    --port "$PX_PORT" --trickle-ms 300 --expect-close --timeout-ms 6000 \
    >/dev/null 2>"$WORK/hs2.err"
t=$(awk '/^ELAPSED_MS/{print $2}' "$WORK/hs2.err")
assert_le "trickled ClientHello: closed within handshake + slack (${t} ms)" "$t" 3500

# ------------------------------------------------------------------ keep-alive idle
raw "GET /ka HTTP/1.1\r\nHost: a\r\n\r\n" --timeout-ms 5000
t=$(raw_elapsed)
assert_eq "keep-alive: first request answered" 200 "$(raw_status)"
if raw_closed; then pass "idle keep-alive connection closed"
else fail "idle keep-alive connection closed" "$RAW_ERR"; fi
assert_le "idle keep-alive closed within keepalive + slack (${t} ms)" "$t" 3000
assert_ge "idle keep-alive not closed at once (${t} ms)" "$t" 800

# A connection that keeps working is not closed by the keep-alive timer.
raw "GET /ka1 HTTP/1.1\r\nHost: a\r\n\r\nGET /ka2 HTTP/1.1\r\nHost: a\r\n\r\nGET /ka3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" \
    --split 32 --delay-ms 300 --timeout-ms 3000
assert_eq "requests spaced 300 ms apart, 3 answered on one connection" 3 "$(raw_nresponses)"

# ------------------------------------------------------------------ client not reading
# A client that stops reading a large response is cut by body_idle: the
# response fills the socket and no write makes progress for that long.
# Its backend connection goes too.  (The client reads one byte every 4 s,
# so only the proxy can end this within the window.)
sleep 0.5
fds0=$(px_fds)
printf 'GET /size/200000000 HTTP/1.1\r\nHost: a\r\n\r\n' | timeout 15 "$RAW" \
    --host 127.0.0.1 --port "$PX_PORT" --escape --slow-read-ms 4000 \
    --read-size 1 --timeout-ms 12000 >/dev/null 2>"$WORK/noread.err" &
nr=$!
sleep 1
fds1=$(px_fds)
assert_ge "client not reading: connection open" "$fds1" $((fds0 + 1))
# The exchange holds the client and a backend connection (perhaps one
# that was pooled before): both must go.
wait_until 6 '[ "$(px_fds)" -le $((fds1 - 2)) ]'
fds2=$(px_fds)
assert_le "client not reading: cut by body_idle, backend connection closed ($fds2 fds, $fds1 while stuck)" \
    "$fds2" $((fds1 - 2))
kill "$nr" 2>/dev/null
wait "$nr" 2>/dev/null

# ------------------------------------------------------------------ many slowloris
pids=()
for i in $(seq 1 50); do
	printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' | timeout 15 "$RAW" --port "$PX_PORT" \
	    --trickle-ms 200 --timeout-ms 5000 >/dev/null 2>&1 &
	pids+=("$!")
done
sleep 0.5
r=$(gcurl -o /dev/null -w '%{http_code} %{time_total}' "$U/while-slowloris")
assert_eq "served while 50 slowloris clients trickle" 200 "${r% *}"
t=${r#* }
# 50 TLS handshakes at once are slow under ASan: allow more time there.
lim=1
if sanitized; then lim=5; fi
assert_le "... promptly (${t}s, limit ${lim}s)" "${t%.*}" "$lim"
for p in "${pids[@]}"; do wait "$p"; done
sleep 0.5
fds=$(px_fds)
assert_le "slowloris connections released (proxy has $fds fds open)" "$fds" 60

stop_proxy
finish
