#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# A flood of slow uploaders against request buffering (issue 11, item 2).
# 60 clients each send the head of a 1 MiB POST and all of its body but
# the last byte, then stall: each asks gridfront to buffer 1 MiB (60 MiB in
# all) before any backend is contacted.  limits.body_buffer_total (8 MiB
# here) must bound what the worker holds: memory stays bounded (bodies
# with no share of the budget wait with reading paused, those holding a
# share stream on to the backend under its backpressure),
# timeouts.body_idle ends every stalled upload with a 408 (or a close),
# none completes at the backend, other clients are served meanwhile, and
# the budget and descriptors all come back afterwards.

. "$(dirname "$0")/../e2e/lib.sh"

N=60
BODY=$((1024 * 1024))
RSS_LIMIT_KB=$((32 * 1024))	# 8 MiB of budget + paused input + slack
FD_SLACK=2

px_rss() { awk '/^VmRSS/{print $2}' "/proc/$PX_PID/status" 2>/dev/null || echo 0; }

start_backend b1
std_conf "$WORK/flood.yaml" "$(route / b1)" "limits:
  body_buffer: 1m
  body_buffer_total: ${GF_FLOOD_TOTAL:-8m}
timeouts:
  body_idle: 2s
  request_head: 2s"
start_proxy "$WORK/flood.yaml"
U=$(px_url)

j=$(gcurl -X POST -H 'Expect:' --data-binary 'hello' "$U/pre")
assert_eq "baseline POST" 5 "$(jq -r .body_length <<<"$j")"
sleep 0.5
fd0=$(px_fds)
rss0=$(px_rss)
c0=$(be_stats b1 completed)

REQ="POST /flood HTTP/1.1\r\nHost: a\r\nContent-Length: $BODY\r\n\r\n"
hlen=$(printf '%b' "$REQ" | wc -c)
{ printf '%b' "$REQ"; head -c "$BODY" /dev/zero; } >"$WORK/flood.req"
pids=()
for i in $(seq 1 "$N"); do
	timeout 30 "$RAW" --port "$PX_PORT" --file "$WORK/flood.req" \
	    --trickle-after $((hlen + BODY - 1)) --trickle-ms 10000 \
	    --expect-close --timeout-ms 8000 >"$WORK/f.$i.out" 2>"$WORK/f.$i.err" &
	pids+=("$!")
done
peak=$rss0
for i in 1 2 3 4 5 6; do
	sleep 0.25
	r=$(px_rss)
	[ "$r" -gt "$peak" ] && peak=$r
done
r=$(gcurl -o /dev/null -w '%{http_code} %{time_total}' "$U/during" 2>/dev/null)
c0=$((c0 + 1))	# that GET
assert_eq "slow-upload flood: another client served meanwhile" 200 "${r% *}"
t=${r#* }
assert_le "slow-upload flood: ... within 2 s (${t}s)" "${t%.*}" 1
r=$(gcurl -o /dev/null -w '%{http_code} %{time_total}' -X POST -H 'Expect:' \
    --data-binary 'hello' "$U/during-post" 2>/dev/null)
c0=$((c0 + 1))	# that POST
assert_eq "slow-upload flood: another client's POST served meanwhile" 200 "${r% *}"
t=${r#* }
assert_le "slow-upload flood: ... within 2 s (${t}s)" "${t%.*}" 1
for i in 1 2 3 4; do
	sleep 0.25
	r=$(px_rss)
	[ "$r" -gt "$peak" ] && peak=$r
done
for p in "${pids[@]}"; do wait "$p"; done
n408=0 nend=0 n200=0
for i in $(seq 1 "$N"); do
	s=$(head -n 1 "$WORK/f.$i.out" | tr -d '\r')
	case $s in
	"HTTP/1.1 408 "*) n408=$((n408 + 1)); nend=$((nend + 1)) ;;
	"") nend=$((nend + 1)) ;;
	"HTTP/1.1 200 "*) n200=$((n200 + 1)) ;;
	esac
done
note "slow-upload flood: $n408 of $N got a 408, $((nend - n408)) a bare close; peak VmRSS $rss0 -> $peak kB"
assert_eq "slow-upload flood: every stalled upload ended with 408 or a close" "$N" "$nend"
assert_eq "slow-upload flood: no stalled upload completed at the backend" \
    "$c0" "$(be_stats b1 completed)"
if sanitized; then
	note "RSS bound not checked under ASan"
else
	assert_le "slow-upload flood: memory bounded by the budget (VmRSS $rss0 -> $peak kB)" \
	    $((peak - rss0)) "$RSS_LIMIT_KB"
fi
j=$(gcurl -X POST -H 'Expect:' --data-binary @"$WORK/flood.req" "$U/after")
assert_eq "slow-upload flood over: a 1 MiB POST is buffered and served again" \
    $((hlen + BODY)) "$(jq -r .body_length <<<"$j")"
wait_until 10 bash -c "[ \$(ls /proc/$PX_PID/fd | wc -l) -le $((fd0 + FD_SLACK)) ]"
n=$(px_fds)
assert_le "slow-upload flood: no fd leak ($fd0 before, $n after)" "$n" $((fd0 + FD_SLACK))
stop_proxy
assert_eq "proxy exits 0 after the flood" 0 "$?"
finish
