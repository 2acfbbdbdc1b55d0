#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Process control: SIGTERM stops accepting, lets an in-flight request
# finish (the client gets its whole answer) and exits 0; the drain is
# bounded by shutdown_grace; idle keep-alive connections do not hold the
# drain up; SIGINT stops at once.

. "$(dirname "$0")/lib.sh"

start_backend b1
U=

# proxy_up NAME GRACE: a fresh proxy with shutdown_grace GRACE.
proxy_up() {
	PX_PORT=
	std_conf "$WORK/$1.yaml" "$(route / b1)" "timeouts:
  shutdown_grace: $2
  upstream_response: 60s
  body_idle: 60s"
	start_proxy "$WORK/$1.yaml"
	U=$(px_url)
}

# wait_exit PID: wait for it (bounded); sets EXIT_RC and EXIT_MS.  Must
# run in this shell (not in $(...)): only the parent can collect the status.
wait_exit() {
	local pid=$1 t0
	t0=$(now_ms)
	if ! wait_until 15 eval "! alive $pid"; then
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	EXIT_RC=$?
	EXIT_MS=$(($(now_ms) - t0))
}

# ------------------------------------------------------------------ drain
proxy_up drain 5s
gcurl -o "$WORK/drain.json" -w '%{http_code}' "$U/slow/1500" >"$WORK/drain.code" 2>&1 &
cpid=$!
sleep 0.4
pid=$PX_PID
kill -TERM "$pid"
sleep 0.3
if port_open "$PX_PORT"; then
	fail "SIGTERM: listener closed while draining"
else pass "SIGTERM: listener closed while draining"; fi
wait_exit "$pid"
r="$EXIT_RC $EXIT_MS"
PX_PID=
wait "$cpid"
assert_eq "SIGTERM: in-flight request completed with 200" 200 "$(cat "$WORK/drain.code")"
assert_eq "SIGTERM: in-flight response body intact" /slow/1500 \
    "$(jq -r .target "$WORK/drain.json" 2>/dev/null)"
assert_eq "SIGTERM: exit status 0" 0 "${r% *}"
t=${r#* }
assert_ge "SIGTERM: waited for the in-flight request (${t} ms)" "$t" 700
assert_le "SIGTERM: exited soon after it finished (${t} ms)" "$t" 3500
check_sanitizers

# ------------------------------------------------------------------ bounded
proxy_up bounded 2s
gcurl -o /dev/null "$U/slow/30000" >/dev/null 2>&1 &
cpid=$!
sleep 0.4
pid=$PX_PID
kill -TERM "$pid"
wait_exit "$pid"
r="$EXIT_RC $EXIT_MS"
PX_PID=
t=${r#* }
assert_eq "SIGTERM past the grace: exit status 0" 0 "${r% *}"
assert_ge "SIGTERM past the grace: waited about shutdown_grace (${t} ms)" "$t" 1500
assert_le "SIGTERM past the grace: stopped after shutdown_grace (${t} ms)" "$t" 4500
wait "$cpid"
assert_ne "SIGTERM past the grace: the unfinished request was cut" 0 "$?"
check_sanitizers

# ------------------------------------------------------------------ idle keep-alive
proxy_up idle 8s
printf 'GET /idle HTTP/1.1\r\nHost: a\r\n\r\n' | timeout 20 "$RAW" --port "$PX_PORT" \
    --timeout-ms 12000 --expect-close >"$WORK/idle.out" 2>"$WORK/idle.err" &
cpid=$!
sleep 0.5
pid=$PX_PID
kill -TERM "$pid"
wait_exit "$pid"
r="$EXIT_RC $EXIT_MS"
PX_PID=
t=${r#* }
assert_eq "SIGTERM with an idle keep-alive client: exit 0" 0 "${r% *}"
assert_le "an idle keep-alive connection does not hold up the drain (${t} ms)" "$t" 3000
wait "$cpid"
assert_contains "the idle client had got its answer" "$(cat "$WORK/idle.out")" '"target":"/idle"'
check_sanitizers

# ------------------------------------------------------------------ SIGINT
proxy_up int 10s
gcurl -o /dev/null "$U/slow/5000" >/dev/null 2>&1 &
cpid=$!
sleep 0.4
pid=$PX_PID
kill -INT "$pid"
wait_exit "$pid"
r="$EXIT_RC $EXIT_MS"
PX_PID=
t=${r#* }
assert_le "SIGINT stops at once (${t} ms)" "$t" 1000
wait "$cpid"
assert_ne "SIGINT: the in-flight request did not complete" 0 "$?"
check_sanitizers

finish
