#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Backend failures become the documented statuses, in bounded time, while
# the proxy keeps serving everyone else: refused connect -> 502/503, no
# answer -> 504 after upstream_response, close before answering, garbage
# and an over-long status line -> 502, a reset or stalled body -> a
# truncated response (never a complete-looking one), an endless body is
# dropped when the client leaves.  Round-robin with passive health keeps a
# route with one dead backend of two fully working and takes a revived
# backend back; stale pooled connections are retried for idempotent
# requests; a POST is never sent twice.

. "$(dirname "$0")/lib.sh"

start_backend good
start_backend refuse --mode refuse
start_backend hang --mode hang
start_backend close --mode close
start_backend garbage --mode garbage
start_backend longst --mode long_status
start_backend reset --mode reset_mid_body
start_backend endless --mode endless_chunked
start_backend slow --mode slow
start_backend stale --idle-close-ms 300
start_backend silent --max-requests 1 --silent-close -v
start_backend revive
REVIVE_PORT=${BE_PORT[revive]}
stop_backend revive

routes="$(route /refuse refuse)
$(route /hang hang)
$(route /close close)
$(route /garbage garbage)
$(route /longstatus longst)
$(route /reset reset)
$(route /endless endless)
$(route /slowbe slow)
$(route /half refuse good)
$(route /stale stale)
$(route /silent silent)
$(route /revive revive good)
$(route / good)"
std_conf "$WORK/fail.yaml" "$routes" "timeouts:
  upstream_connect: 1s
  upstream_response: 1500ms
  body_idle: 2s
upstream:
  down_time: 2s"
start_proxy "$WORK/fail.yaml"
U=$(px_url)
fd0=$(px_fds)

# code_time PATH [curl args]: prints "<status> <seconds>".
code_time() {
	local p=$1; shift
	gcurl -o "$WORK/ct.body" -w '%{http_code} %{time_total}' "$@" "$U$p" 2>/dev/null
}

# expect_error NAME ERE PATH MIN_S MAX_S [curl args]
expect_error() {
	local name=$1 exp=$2 path=$3 min=$4 max=$5; shift 5
	local r code t
	r=$(code_time "$path" "$@")
	code=${r% *}
	t=${r#* }
	t=${t%.*}
	if [[ "$code" =~ $exp ]]; then pass "$name: status"
	else fail "$name: status" "expected /$exp/, got $code"; fi
	assert_ge "$name: not before ${min}s (took ${t}s)" "$t" "$min"
	assert_le "$name: within ${max}s (took ${t}s)" "$t" "$max"
	local sz
	sz=$(wc -c <"$WORK/ct.body")
	assert_le "$name: short error body ($sz bytes)" "$sz" 1024
}

# ------------------------------------------------------------------ statuses
expect_error "refused connect"          '^50[23]$' /refuse/x 0 3
expect_error "backend never answers"    '^504$'    /hang/x 1 5
expect_error "backend closes at once"   '^502$'    /close/x 0 3
expect_error "backend sends garbage"    '^502$'    /garbage/x 0 3
expect_error "64 KiB status line"       '^502$'    /longstatus/x 0 3
expect_error "backend answers 1 B/100ms" '^504$'   /slowbe/x 1 5

raw "GET /close/x HTTP/1.1\r\nHost: a\r\n\r\n"
assert_eq "error response carries Connection: close" close \
    "$(raw_header Connection | tr 'A-Z' 'a-z')"

# Reset in the middle of the body: the client must see a truncated body.
gcurl -o "$WORK/reset.bin" "$U/reset/x" 2>/dev/null
rc=$?
sz=$(wc -c <"$WORK/reset.bin")
assert_ne "reset mid-body: client sees a failed transfer (curl rc $rc)" 0 "$rc"
assert_le "reset mid-body: less than the announced length arrived" "$sz" 65535

# A body that stalls half way is cut by body_idle.
t0=$(now_ms)
gcurl -o "$WORK/stall.bin" "$U/stall/1000" 2>/dev/null
rc=$?
t=$(($(now_ms) - t0))
assert_ne "stalled body: client sees a failed transfer" 0 "$rc"
assert_le "stalled body: cut after body_idle (took ${t} ms)" "$t" 7000
assert_ge "stalled body: not cut before body_idle (took ${t} ms)" "$t" 1500

# Endless chunked body: the client leaves, the upstream goes too.
gcurl -o "$WORK/endless.bin" --max-time 2 "$U/endless/x" 2>/dev/null
assert_ge "endless body streams to the client" "$(wc -c <"$WORK/endless.bin")" 10000
wait_until 5 bash -c "[ \"\$(curl -s $(be_url endless)/__stats | jq .open)\" = 0 ]"
assert_eq "endless body: upstream closed after the client left" 0 "$(be_stats endless open)"

# ------------------------------------------------------------------ others served
gcurl -o /dev/null "$U/hang/bg" 2>/dev/null &
bg=$!
sleep 0.2
r=$(code_time /ok)
assert_eq "served while another request hangs upstream" 200 "${r% *}"
t=${r#* }
assert_le "... promptly (${t}s)" "${t%.*}" 0
wait "$bg"

# ------------------------------------------------------------------ no replay
be_reset close
gcurl -o /dev/null -X POST --data-binary 'once only' "$U/close/post" 2>/dev/null
assert_eq "POST to a closing backend arrived exactly once" 1 "$(be_stats close requests)"
be_reset reset
gcurl -o /dev/null -X POST --data-binary 'once only' "$U/reset/post" 2>/dev/null
assert_eq "POST to a resetting backend arrived exactly once" 1 "$(be_stats reset requests)"
be_reset hang
gcurl -o /dev/null -X POST --data-binary 'once only' "$U/hang/post" 2>/dev/null
assert_eq "POST to a hanging backend arrived exactly once" 1 "$(be_stats hang requests)"

# ------------------------------------------------------------------ passive health
be_reset good
ok=0
for i in $(seq 1 10); do
	[ "$(code_time /half/$i | cut -d' ' -f1)" = 200 ] && ok=$((ok + 1))
done
assert_eq "one dead backend of two: 10/10 GETs succeed" 10 "$ok"
assert_eq "... all served by the live one" 10 "$(be_stats good requests)"
t=$(code_time /half/timed | cut -d' ' -f2)
assert_le "a marked-down backend costs no connect timeout (${t}s)" "${t%.*}" 0

ok=0
for i in $(seq 1 6); do
	[ "$(code_time /revive/$i | cut -d' ' -f1)" = 200 ] && ok=$((ok + 1))
done
assert_eq "route with a stopped backend still serves" 6 "$ok"
"$BACKEND" --port "$REVIVE_PORT" --id revive >"$WORK/be-revive2.out" 2>&1 &
PIDS+=("$!")
BE_PID[revive]=$!
wait_until 5 grep -q '^PORT ' "$WORK/be-revive2.out" || fail "revived backend did not start"
sleep 2.5
for i in $(seq 1 10); do code_time /revive/again$i >/dev/null; sleep 0.1; done
assert_ge "a revived backend gets traffic again after down_time" \
    "$(be_stats revive requests)" 2

# ------------------------------------------------------------------ stale pool
ok=0
for i in 1 2 3 4; do
	[ "$(code_time /stale/$i | cut -d' ' -f1)" = 200 ] && ok=$((ok + 1))
	sleep 0.6	# the backend closes idle connections after 300 ms
done
assert_eq "pooled connections closed by the backend while idle: 4/4 ok" 4 "$ok"
ok=0
for i in $(seq 1 10); do
	[ "$(code_time /silent/get$i | cut -d' ' -f1)" = 200 ] && ok=$((ok + 1))
done
assert_eq "backend closing silently after each response: 10/10 GETs ok" 10 "$ok"
for i in $(seq 1 10); do
	code_time /silent/post$i -X POST --data-binary "post $i" >/dev/null
done
dups=$(grep -oE 'POST /silent/post[0-9]+ ' "$WORK/be-silent.err" | sort | uniq -d | wc -l)
assert_eq "no POST replayed after a stale connection" 0 "$dups"

assert_status "the proxy still serves after all of this" 200 "$U/ok"
sleep 1
# Pooled idle connections (good, stale, revive) may remain; nothing else.
assert_le "no fd leak after the faults ($fd0 at start, $(px_fds) now)" \
    "$(px_fds)" $((fd0 + 4))
stop_proxy
assert_eq "proxy exits 0" 0 "$?"
finish
