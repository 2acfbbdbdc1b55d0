#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Nothing that stops reading may leave an answer waiting for a timeout.
# Over-limit request heads (a 66,000-byte target, one 66,000-byte header
# value, 200 headers of 512 bytes) are sent by four concurrent TLS
# clients in 8 KiB writes that stop as soon as the socket turns readable
# (a select() loop): each must get its 414/431 within 2 s while
# timeouts.request_head is 20 s.  Before session tickets went out with
# the first response, the TLS 1.3 ticket alone made the socket readable,
# the clients stopped in mid-head and waited out request_head (issue 11,
# item 1).  Resumption with the deferred ticket still works.  Then the
# other paths that stop reading: a body paused by the backend's
# watermark, a pipelined request behind a body, a half-closed client,
# and a lingering close after an error, each answered without a timeout.

. "$(dirname "$0")/lib.sh"

start_backend b1
std_conf "$WORK/stall.yaml" "$(route / b1)" "timeouts:
  request_head: 20s
  body_idle: 20s"
start_proxy "$WORK/stall.yaml"

{ printf 'GET /'; head -c 66000 /dev/zero | tr '\0' a
  printf ' HTTP/1.1\r\nHost: a\r\n\r\n'; } >"$WORK/target.req"
{ printf 'GET / HTTP/1.1\r\nHost: a\r\nX-Big: '; head -c 66000 /dev/zero | tr '\0' v
  printf '\r\n\r\n'; } >"$WORK/value.req"
line=$(head -c 503 /dev/zero | tr '\0' h)
{ printf 'GET / HTTP/1.1\r\nHost: a\r\n'
  for i in $(seq 200); do printf 'X-H%03d: %s\r\n' "$i" "$line"; done
  printf '\r\n'; } >"$WORK/many.req"

# one KIND CLIENT TRY: prints "status elapsed_ms" of one try.
one() {
	local o=$WORK/o.$1.$2.$3 e=$WORK/e.$1.$2.$3
	timeout 10 "$RAW" --port "$PX_PORT" --file "$WORK/$1.req" --split 8192 \
	    --stop-when-readable --expect-close --timeout-ms 2000 >"$o" 2>"$e"
	printf '%s %s\n' "$(head -c 12 "$o" | cut -c10-12)" \
	    "$(awk '/^ELAPSED_MS/{print $2}' "$e")"
}

for kind in target:414 value:431 many:431; do
	k=${kind%%:*} want=${kind#*:}
	pids=()
	for c in 1 2 3 4; do
		( for i in 1 2 3 4 5; do one "$k" "$c" "$i"; done >"$WORK/r.$k.$c" ) &
		pids+=($!)
	done
	wait "${pids[@]}"	# not the backend and proxy
	cat "$WORK"/r."$k".* >"$WORK/r.$k"
	n=$(wc -l <"$WORK/r.$k")
	ok=$(awk -v w="$want" '$1 == w && $2 != "" && $2 < 2000' "$WORK/r.$k" | wc -l)
	assert_eq "over-limit head ($k), 4 clients x 5 that stop once readable: $want within 2 s" \
	    "20 of 20" "$ok of $n"
	[ "$ok" = 20 ] || note "$k: $(sort "$WORK/r.$k" | uniq -c | tr '\n' ';')"
done

# The ticket now rides with the first response: TLS 1.3 resumption works.
rm -f "$WORK/sess.pem"
printf 'GET /r1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
    timeout 10 openssl s_client -connect "127.0.0.1:$PX_PORT" -tls1_3 -ign_eof \
    -CAfile "$PKI/ca-bundle.pem" -sess_out "$WORK/sess.pem" >"$WORK/s1.out" 2>&1
out=$(printf 'GET /r2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
    timeout 10 openssl s_client -connect "127.0.0.1:$PX_PORT" -tls1_3 -ign_eof \
    -CAfile "$PKI/ca-bundle.pem" -sess_in "$WORK/sess.pem" 2>&1)
assert_contains "TLS 1.3 session resumed with the ticket sent with the response" \
    "$out" "Reused, TLSv1.3"
assert_contains "resumed session answered" "$out" "HTTP/1.1 200"

# A body larger than the watermarks, sent at once, then the client only
# reads: it is relayed whole and answered at once.
head -c $((3 * 1024 * 1024)) /dev/urandom >"$WORK/body.bin"
{ printf 'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' \
    $((3 * 1024 * 1024)); cat "$WORK/body.bin"; } >"$WORK/post.req"
timeout 10 "$RAW" --port "$PX_PORT" --file "$WORK/post.req" --expect-close \
    --timeout-ms 5000 >"$WORK/post.out" 2>"$WORK/post.err"
assert_contains "3 MiB body through the watermarks: answered" "$(tr -d '\0' <"$WORK/post.out")" \
    "\"body_sha256\":\"$(sha256sum <"$WORK/body.bin" | cut -c1-64)\""
assert_le "3 MiB body through the watermarks: within 3 s" \
    "$(awk '/^ELAPSED_MS/{print $2}' "$WORK/post.err")" 3000

# A pipelined request behind a body, then half-close: both answered.
raw "POST /p1 HTTP/1.1\r\nHost: a\r\nContent-Length: 70000\r\n\r\n$(head -c 70000 /dev/zero | tr '\0' x)GET /p2 HTTP/1.1\r\nHost: a\r\n\r\n" \
    --halfclose --timeout-ms 5000
assert_eq "pipelined after a 70 kB body, half-closed: 2 responses" 2 "$(raw_nresponses)"
assert_le "pipelined after a body, half-closed: answered within 3 s" "$(raw_elapsed)" 3000

# Lingering close: a client that goes on sending after its 414 (a 66 kB
# target, then 512 KiB more) gets the answer at once and a clean close,
# not a reset that could destroy it.
{ cat "$WORK/target.req"; head -c $((512 * 1024)) /dev/zero | tr '\0' z; } >"$WORK/linger.req"
timeout 10 "$RAW" --port "$PX_PORT" --file "$WORK/linger.req" --split 8192 \
    --expect-close --timeout-ms 5000 >"$WORK/linger.out" 2>"$WORK/linger.err"
assert_eq "over-limit head, client keeps sending: 414" 414 \
    "$(head -c 12 "$WORK/linger.out" | cut -c10-12)"
assert_eq "over-limit head, client keeps sending: closed cleanly" CLOSED \
    "$(grep -m1 -E '^(OPEN|CLOSED|RESET)$' "$WORK/linger.err")"
assert_le "over-limit head, client keeps sending: done within 3 s" \
    "$(awk '/^ELAPSED_MS/{print $2}' "$WORK/linger.err")" 3000

stop_proxy
finish
