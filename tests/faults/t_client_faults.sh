#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Faulty and hostile clients, end to end.  Each fault runs against a live
# gridfront and checks four things: the documented outcome (408 for a
# head or body that does not arrive in time, a complete response after a
# half-close, a 502 and no replay when a backend breaks during a POST
# body), bounded memory (VmRSS), no descriptor leak (/proc/PID/fd back to
# its baseline once the clients are gone) and that another client is
# served while the fault is going on.  The faults: slowloris heads, request
# bodies trickled slower than body_idle, a 50 MiB download read slowly
# (backpressure must pause the backend, not buffer it), half-close after a
# full request, keep-alive requests paced exactly at the upstream pool's
# idle timeout, POST bodies cut by a closing or resetting backend (never
# replayed, not even to another backend), an early error to a POST whose
# body is still coming, and a connection flood up to the descriptor limit
# (gridfront started under `ulimit -n 256`: it must back off accepting
# instead of spinning, log the back-off and serve again afterwards).
# Backend faults are covered by tests/e2e/t_backend_fail.sh and not
# repeated here.  Helpers: partial_backend.py (breaks a connection after
# part of a request body) and early_reply.py (a client that writes its
# whole request before reading).  When the proxy stops answering, what it
# was doing (CPU, stacks, syscalls) is kept in $WORK/diag-*.txt.

. "$(dirname "$0")/../e2e/lib.sh"

FAULTS_DIR=$(cd "$(dirname "$0")" && pwd)
PARTIAL_BE=$FAULTS_DIR/partial_backend.py
command -v python3 >/dev/null || die "python3 is not installed"
HZ=$(getconf CLK_TCK)
RSS_LIMIT_KB=$((20 * 1024))	# growth allowed during one fault
FD_SLACK=2			# descriptors allowed above the baseline

# ------------------------------------------------------------------ probes

px_rss() { awk '/^VmRSS/{print $2}' "/proc/$PX_PID/status" 2>/dev/null || echo 0; }
px_fds() { ls "/proc/$PX_PID/fd" 2>/dev/null | wc -l; }

# px_cpu_ms: user + system CPU time the proxy has used, in milliseconds.
# (The fields after the ")" that ends the command name: utime is the 12th.)
px_cpu_ms() {
	local s
	s=$(cat "/proc/$PX_PID/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	awk -v hz="$HZ" '{ printf "%d\n", ($12 + $13) * 1000 / hz }' <<<"$s"
}

# fds_settle BASE DESC: wait (up to 10 s) for the descriptor count to come
# back to BASE (+ FD_SLACK), then assert it.
fds_settle() {
	local base=$1 d=$2 lim=$(($1 + FD_SLACK))
	wait_until 10 bash -c "[ \$(ls /proc/$PX_PID/fd | wc -l) -le $lim ]"
	local n
	n=$(px_fds)
	assert_le "$d: no fd leak ($base before, $n after)" "$n" "$lim"
}

# rss_bounded BASE_KB DESC [PEAK_KB]: growth over BASE below RSS_LIMIT_KB.
rss_bounded() {
	local base=$1 d=$2 now=${3:-$(px_rss)}
	assert_le "$d: memory bounded (VmRSS $base -> $now kB)" \
	    $((now - base)) "$RSS_LIMIT_KB"
}

# px_diagnose LABEL: the proxy misbehaves; keep what it is doing for the
# report ($WORK/diag-LABEL.txt): CPU used over one second, thread states,
# stacks (gdb) and a syscall summary (strace) when those tools exist.
px_diagnose() {
	local f=$WORK/diag-$1.txt c0 c1
	c0=$(px_cpu_ms)
	sleep 1
	c1=$(px_cpu_ms)
	{
		echo "== $1: CPU $((c1 - c0)) ms in 1 s, $(px_fds) fds, $(px_rss) kB"
		for t in /proc/$PX_PID/task/*; do
			echo "thread ${t##*/}: $(awk '{print $3}' "$t/stat" 2>/dev/null)"
		done
		ss -tnpi 2>/dev/null | grep -A1 "pid=$PX_PID," || true
		if command -v gdb >/dev/null; then
			timeout 30 gdb -p "$PX_PID" -batch -ex 'thread apply all bt' 2>&1 |
			    grep -E '^(#|Thread)'
		fi
		if command -v strace >/dev/null; then
			timeout 1 strace -f -tt -p "$PX_PID" 2>&1 | head -n 40
		fi
	} >"$f" 2>&1
	note "$1: proxy used $((c1 - c0)) ms CPU in 1 s; details in $f"
	KEEP=1
}

# served_during DESC: another client gets a normal answer, promptly.
served_during() {
	local r t
	r=$(gcurl -o /dev/null -w '%{http_code} %{time_total}' \
	    "$(px_url)/ok/during" 2>/dev/null)
	t=${r#* }
	assert_eq "$1: another client served meanwhile" 200 "${r% *}"
	assert_le "$1: ... within 2 s (${t}s)" "${t%.*}" 1
	[ "${r% *}" = 200 ] || px_diagnose "$(tr 'A-Z' 'a-z' <<<"$1" | tr -c 'a-z0-9\n' -)"
}

# be_busy_zero NAME: wait until the backend has no transfer in progress.
be_busy_zero() {
	wait_until 10 bash -c "[ \"\$(curl -s --max-time 2 $(be_url "$1")/__stats | jq .busy)\" = 0 ]"
}

# start_partial NAME HOW READ: the python partial-body backend.
start_partial() {
	local name=$1 out=$WORK/be-$1.out
	python3 "$PARTIAL_BE" --how "$2" --read "$3" --lifetime 900 \
	    >"$out" 2>"$WORK/be-$name.err" &
	PIDS+=("$!")
	BE_PID[$name]=$!
	wait_until 5 grep -q '^PORT ' "$out" || die "partial backend $name did not start"
	BE_PORT[$name]=$(awk '/^PORT /{print $2; exit}' "$out")
}

partial_reqs() { grep -c '^REQ ' "$WORK/be-$1.out"; }

# ------------------------------------------------------------------ setup

start_backend b1
start_backend bodybe
start_backend slowbe
start_backend closer --mode close
start_backend good
start_backend other
start_backend down --mode refuse
start_partial prst reset 65536
start_partial pfin close 65536

routes="$(route /ok other)
$(route /body bodybe)
$(route /size slowbe)
$(route /closer closer)
$(route /prst prst)
$(route /pfin pfin)
$(route /mixed prst good)
$(route /down down)
$(route / b1)"
std_conf "$WORK/faults.yaml" "$routes" "timeouts:
  handshake: 3s
  request_head: 1500ms
  body_idle: 1500ms
  keepalive: 5s
  upstream_response: 10s
upstream:
  pool_idle_timeout: 200ms
  down_time: 1s"
start_proxy "$WORK/faults.yaml"
U=$(px_url)

assert_status "baseline request" 200 "$U/ok/first"
sleep 1.5			# let the pooled upstream connection expire
FD0=$(px_fds)
note "baseline: $FD0 fds, $(px_rss) kB"

# ------------------------------------------------------------------ slowloris
# 40 clients send a long head one byte per 100 ms: each must get a 408
# (then a close) once request_head (1.5 s) has passed, and nothing may
# reach the backend.
r0=$(be_stats b1 requests)
rss0=$(px_rss)
fd0=$(px_fds)
hdr='GET /slowloris HTTP/1.1\r\nHost: a\r\nX-Padding: 0123456789012345678901234567890123456789\r\n\r\n'
pids=()
for i in $(seq 1 40); do
	printf '%b' "$hdr" | timeout 15 "$RAW" --port "$PX_PORT" --trickle-ms 100 \
	    --expect-close --timeout-ms 5000 >"$WORK/sl.$i.out" 2>"$WORK/sl.$i.err" &
	pids+=("$!")
done
sleep 0.5
served_during "slowloris x40"
peak=$(px_rss)
for p in "${pids[@]}"; do wait "$p"; done
n408=0 nclosed=0 tmax=0
for i in $(seq 1 40); do
	[[ "$(head -n 1 "$WORK/sl.$i.out")" == "HTTP/1.1 408 "* ]] && n408=$((n408 + 1))
	grep -qE '^(CLOSED|RESET)$' "$WORK/sl.$i.err" && nclosed=$((nclosed + 1))
	t=$(awk '/^ELAPSED_MS/{print $2}' "$WORK/sl.$i.err")
	[ "${t:-0}" -gt "$tmax" ] && tmax=$t
done
assert_eq "slowloris x40: every client got 408" 40 "$n408"
assert_eq "slowloris x40: every connection closed" 40 "$nclosed"
assert_le "slowloris x40: all cut within request_head + slack (slowest ${tmax} ms)" "$tmax" 4500
assert_eq "slowloris x40: nothing reached the backend" "$r0" "$(be_stats b1 requests)"
rss_bounded "$rss0" "slowloris x40" "$peak"
fds_settle "$fd0" "slowloris x40"

# ------------------------------------------------------------------ trickled body
# 20 clients send a complete head and then one body byte every 2.5 s,
# slower than body_idle (1.5 s): each gets a 408 (or a close), and the
# backend never sees a complete request; its half-sent requests are torn
# down.
be_reset bodybe
rss0=$(px_rss)
fd0=$(px_fds)
head='POST /body/trickle HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n'
hlen=$(printf '%b' "$head" | wc -c)
pids=()
for i in $(seq 1 20); do
	printf '%b0123456789' "$head" | timeout 15 "$RAW" --port "$PX_PORT" \
	    --trickle-after "$hlen" --trickle-ms 2500 --expect-close --timeout-ms 6000 \
	    >"$WORK/tb.$i.out" 2>"$WORK/tb.$i.err" &
	pids+=("$!")
done
sleep 0.7
served_during "trickled body x20"
peak=$(px_rss)
for p in "${pids[@]}"; do wait "$p"; done
nok=0 nclosed=0 n408=0 tmax=0
for i in $(seq 1 20); do
	s=$(head -n 1 "$WORK/tb.$i.out" | tr -d '\r')
	case $s in
	"HTTP/1.1 408 "*) nok=$((nok + 1)); n408=$((n408 + 1)) ;;
	"") nok=$((nok + 1)) ;;
	esac
	grep -qE '^(CLOSED|RESET)$' "$WORK/tb.$i.err" && nclosed=$((nclosed + 1))
	t=$(awk '/^ELAPSED_MS/{print $2}' "$WORK/tb.$i.err")
	[ "${t:-0}" -gt "$tmax" ] && tmax=$t
done
note "trickled body: $n408 of 20 got a 408, the others a bare close"
assert_eq "trickled body x20: each got 408 or a bare close" 20 "$nok"
assert_eq "trickled body x20: every connection closed" 20 "$nclosed"
assert_le "trickled body x20: cut within body_idle + slack (slowest ${tmax} ms)" "$tmax" 5000
assert_eq "trickled body x20: the backend completed no request" 0 \
    "$(be_stats bodybe completed)"
be_busy_zero bodybe
assert_eq "trickled body x20: upstream halves torn down" 0 "$(be_stats bodybe busy)"
rss_bounded "$rss0" "trickled body x20" "$peak"
fds_settle "$fd0" "trickled body x20"

# ------------------------------------------------------------------ slow reader
# A 50 MiB download read at ~200 KiB/s for 8 s: gridfront must hold
# neither the body nor a growing buffer; backpressure pauses the backend
# (what it has sent stays near what the client read, plus socket buffers).
BIG=$((50 * 1024 * 1024))
rss0=$(px_rss)
fd0=$(px_fds)
printf 'GET /size/%d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' "$BIG" |
    timeout 30 "$RAW" --port "$PX_PORT" --slow-read-ms 20 --read-size 16384 \
    --expect-close --timeout-ms 8000 >"$WORK/slowrd.out" 2>"$WORK/slowrd.err" &
rp=$!
peak=$rss0 acked=0 got=0
have_ss=0
ss -tinH >/dev/null 2>&1 && have_ss=1
for i in $(seq 1 14); do
	sleep 0.5
	r=$(px_rss)
	[ "$r" -gt "$peak" ] && peak=$r
	[ "$i" = 4 ] && served_during "slow reader"
	if [ "$have_ss" = 1 ]; then
		a=$(ss -tinH state established "( sport = :${BE_PORT[slowbe]} )" 2>/dev/null |
		    grep -o 'bytes_acked:[0-9]*' | cut -d: -f2 | sort -n | tail -n 1)
		[ -n "$a" ] && acked=$a
		got=$(stat -c %s "$WORK/slowrd.out")
	fi
done
wait "$rp"
got=$(stat -c %s "$WORK/slowrd.out")
note "slow reader: client read $got bytes; backend had sent $acked of $BIG; peak VmRSS $peak kB"
assert_ge "slow reader: the download was flowing (read $got bytes)" "$got" $((256 * 1024))
assert_le "slow reader: the client did not get it all (it reads slowly)" "$got" $((BIG / 4))
rss_bounded "$rss0" "slow reader of 50 MiB" "$peak"
if [ "$have_ss" = 1 ]; then
	assert_ge "slow reader: ss saw the backend connection" "$acked" 1
	assert_le "slow reader: backend paused, not drained into the proxy (sent $acked, client read $got)" \
	    "$acked" $((got + 24 * 1024 * 1024))
	assert_le "slow reader: backend far from done (sent $acked of $BIG)" "$acked" $((BIG / 2))
else
	note "ss with bytes_acked is unavailable: backend pause not measured"
fi
be_busy_zero slowbe
b=$(be_stats slowbe busy)
assert_eq "slow reader gone: its upstream transfer torn down" 0 "$b"
c0=$(px_cpu_ms)
sleep 1
c1=$(px_cpu_ms)
assert_le "slow reader gone: the proxy is idle again (CPU $((c1 - c0)) ms in 1 s)" \
    $((c1 - c0)) 200
[ "$b" = 0 ] && [ $((c1 - c0)) -le 200 ] || px_diagnose slow-reader-gone
fds_settle "$fd0" "slow reader"

# ------------------------------------------------------------------ half-close
# A client that sends a whole request and then shuts down its sending
# side (TLS close_notify + FIN) still gets the whole response.
rss0=$(px_rss)
fd0=$(px_fds)
# Repeated, because the request and the client's close_notify + FIN
# often arrive in one read: the answer must not depend on which event the
# proxy looks at first.
HC_N=100
ok=0 nclosed=0 nclean=0 lost=""
for i in $(seq 1 "$HC_N"); do
	raw "GET /hc/get$i HTTP/1.1\r\nHost: a\r\n\r\n" --halfclose --timeout-ms 4000
	j=$(body_of "$WORK/raw.out")
	if [ "$(raw_status)" = 200 ] &&
	    [ "$(jq -r .target <<<"$j" 2>/dev/null)" = "/hc/get$i" ]; then
		ok=$((ok + 1))
	else
		lost="$lost get$i($(tr '\n' ' ' <"$WORK/raw.err"))"
	fi
	raw_closed && nclosed=$((nclosed + 1))
	grep -qx CLOSED "$WORK/raw.err" && nclean=$((nclean + 1))
done
assert_eq "half-close after GET: $HC_N of $HC_N complete 200 responses" "$HC_N" "$ok"
[ -n "$lost" ] && note "half-close after GET: lost:$lost"
assert_eq "half-close after GET: proxy closes after answering" "$HC_N" "$nclosed"
assert_eq "half-close after GET: ... with a TLS close_notify (RFC 8446 6.1), not a bare EOF" \
    "$HC_N" "$nclean"

raw "GET /slow/800 HTTP/1.1\r\nHost: a\r\n\r\n" --halfclose --timeout-ms 5000
t=$(raw_elapsed)
assert_eq "half-close while the backend is still working: 200" 200 "$(raw_status)"
assert_contains "... with the backend's answer" "$RAW_OUT" '"target":"/slow/800"'
assert_ge "... which really came after the half-close (${t} ms)" "$t" 700

raw "POST /hc/post HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world" \
    --halfclose --timeout-ms 4000
j=$(body_of "$WORK/raw.out")
assert_eq "half-close after POST: 200" 200 "$(raw_status)"
assert_eq "half-close after POST: body arrived whole" 11 "$(jq -r .body_length <<<"$j" 2>/dev/null)"

raw "GET /hc/p1 HTTP/1.1\r\nHost: a\r\n\r\nGET /hc/p2 HTTP/1.1\r\nHost: a\r\n\r\n" \
    --halfclose --timeout-ms 4000
assert_eq "half-close after two pipelined GETs: 2 responses" 2 "$(raw_nresponses)"
assert_contains "... the second one too" "$RAW_OUT" '"target":"/hc/p2"'

gcurl -o /dev/null "$U/slow/1500" 2>/dev/null &
bg=$!
printf 'GET /slow/1200 HTTP/1.1\r\nHost: a\r\n\r\n' | timeout 10 "$RAW" --port "$PX_PORT" \
    --halfclose --timeout-ms 5000 >"$WORK/hcbg.out" 2>/dev/null &
bg2=$!
sleep 0.3
served_during "half-closed client waiting"
wait "$bg" "$bg2"
assert_match "background half-closed client answered" "$(head -n 1 "$WORK/hcbg.out")" '^HTTP/1.1 200 '

# Half-close in the middle of a head: nothing is forwarded, the
# connection goes without waiting for request_head.
r0=$(be_stats b1 requests)
raw "GET /hc/partial HTTP/1.1\r\nHost: a\r\n" --halfclose --timeout-ms 4000
t=$(raw_elapsed)
if raw_closed; then pass "half-close mid-head: connection closed"
else fail "half-close mid-head: connection closed" "$RAW_ERR"; fi
assert_match "half-close mid-head: no success status" "$(raw_status)" '^(none|4[0-9][0-9])$'
assert_le "half-close mid-head: closed within request_head + slack (${t} ms)" "$t" 3000
assert_eq "half-close mid-head: nothing reached the backend" "$r0" "$(be_stats b1 requests)"
rss_bounded "$rss0" "half-close"
fds_settle "$fd0" "half-close"

# ------------------------------------------------------------------ pacing
# A keep-alive client whose requests come just as the pooled upstream
# connection reaches pool_idle_timeout (200 ms): the pool's idle timer and
# the reuse race, and the request must never pay for it (found by the
# soak: an instant "504 backend response timeout" from a healthy backend).
one=$(printf 'GET /pace/100 HTTP/1.1\r\nHost: a\r\n\r\n' | wc -c)
req=""
for i in $(seq 100 129); do req="${req}GET /pace/$i HTTP/1.1\r\nHost: a\r\n\r\n"; done
for d in 198 200 202; do
	raw "$req" --split "$one" --delay-ms "$d" --timeout-ms 2000
	n200=$(grep -a -c '^HTTP/1.1 200 ' "$WORK/raw.out")
	other=$(grep -a -o '^HTTP/1.1 [0-9]* [^\r]*' "$WORK/raw.out" | grep -v ' 200 ' | sort | uniq -c | tr -s ' \n' ' ')
	assert_eq "requests paced at the pool idle timeout ($d ms apart): 30 x 200${other:+ (also got:$other)}" \
	    30 "$n200"
done

# ------------------------------------------------------------------ no POST replay
# A backend breaks the connection while the POST body is still being
# sent: the client gets a 502 and the request reached the backend exactly
# once; never again on a fresh connection, nor on another backend.
N=$((1024 * 1024))
post_file() {	# post_file PATH -> $WORK/post.bin
	{ printf 'POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' "$1" "$N"
	  head -c "$N" /dev/zero; } >"$WORK/post.bin"
}
# post_slowly PATH: send that 1 MiB POST in 16 KiB pieces 10 ms apart.
post_slowly() {
	post_file "$1"
	timeout "$T_STEP" "$RAW" --port "$PX_PORT" --file "$WORK/post.bin" \
	    --split 16384 --delay-ms 10 --expect-close --timeout-ms 5000 \
	    >"$WORK/raw.out" 2>"$WORK/raw.err"
}
rss0=$(px_rss)
fd0=$(px_fds)

be_reset closer
post_slowly /closer/post
assert_eq "backend FIN after the head, body still coming: 502" 502 "$(raw_status)"
assert_eq "... the POST reached the backend once" 1 "$(be_stats closer requests)"
assert_eq "... and never completed there" 0 "$(be_stats closer completed)"

post_slowly /prst/post
assert_eq "backend RST after 64 KiB of body: 502" 502 "$(raw_status)"
assert_eq "... the POST reached the backend once" 1 "$(partial_reqs prst)"
assert_ge "... after part of the body had been sent" \
    "$(awk '/^BODY 1 /{print $3}' "$WORK/be-prst.out")" 1

post_slowly /pfin/post
assert_eq "backend FIN after 64 KiB of body: 502" 502 "$(raw_status)"
assert_eq "... the POST reached the backend once" 1 "$(partial_reqs pfin)"

# Two backends on one route: a POST broken on one must not be re-sent
# to the other.  Every POST is counted where it landed.
be_reset good
n0=$(partial_reqs prst)
n502=0 n200=0
for i in 1 2 3 4 5 6; do
	post_slowly "/mixed/post$i"
	case $(raw_status) in
	502) n502=$((n502 + 1)) ;;
	200) n200=$((n200 + 1)) ;;
	esac
	sleep 0.3
done
nprst=$(($(partial_reqs prst) - n0))
ngood=$(be_stats good requests)
note "mixed route: $n502 x 502, $n200 x 200; resetting backend got $nprst, good one $ngood"
assert_eq "mixed route: every POST got 200 or 502" 6 $((n502 + n200))
assert_eq "mixed route: backends received exactly 6 POSTs in all" 6 $((nprst + ngood))
assert_eq "mixed route: every 502 is one POST the resetting backend got" "$n502" "$nprst"
assert_eq "mixed route: every 200 is one POST the good backend completed" "$n200" \
    "$(be_stats good completed)"

# An early error (no backend) to a POST whose body is still coming must
# reach a client that writes its whole request before reading.
for i in 1 2 3; do
	r=$(timeout "$T_STEP" python3 "$FAULTS_DIR/early_reply.py" --port "$PX_PORT" \
	    --cafile "$PKI/ca-bundle.pem" --path "/down/early$i" 2>&1)
	assert_match "early 502/503 to a 1 MiB POST reaches a send-first client ($i)" \
	    "$r" '^STATUS 50[23] '
done

# The same with a short POST the proxy sent whole before the reset.
be_reset closer
raw "POST /closer/small HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" --timeout-ms 4000
assert_eq "short POST to a closing backend: 502" 502 "$(raw_status)"
assert_eq "... reached the backend once" 1 "$(be_stats closer requests)"
served_during "POST faults"
rss_bounded "$rss0" "POST faults"
fds_settle "$fd0" "POST faults"

assert_status "the proxy still serves after all client faults" 200 "$U/ok/last"
stop_proxy
assert_eq "proxy exits 0 after the client faults" 0 "$?"

# ------------------------------------------------------------------ flood
# gridfront under `ulimit -n 256`, 400 connections that never start TLS:
# the listener must back off (logged), not spin; the CPU it uses while
# flooded stays low; once the handshake timeout has reaped the flood,
# queued clients are served, and the descriptors come back.
cat >"$WORK/gf-ulimit.sh" <<EOF
#!/bin/sh
ulimit -n 256 || exit 111
exec "$GF" "\$@"
EOF
chmod +x "$WORK/gf-ulimit.sh"
REAL_GF=$GF
GF=$WORK/gf-ulimit.sh
PX_PORT=
std_conf "$WORK/flood.yaml" "$(route / b1)" "timeouts:
  handshake: 5s
  request_head: 2s
upstream:
  pool_idle_timeout: 1s"
start_proxy "$WORK/flood.yaml"
GF=$REAL_GF
U=$(px_url)
lim=$(awk '/^Max open files/{print $4}' "/proc/$PX_PID/limits")
assert_eq "flood: proxy runs with a 256 fd limit" 256 "$lim"
assert_status "flood: baseline request" 200 "$U/ok/pre-flood"
sleep 1.5
fd0=$(px_fds)
rss0=$(px_rss)

"$RAW" --port "$PX_PORT" --flood 400 --hold-ms 9000 >"$WORK/flood.out" 2>&1 &
fp=$!
t0=$(now_ms)
wait_until 4 bash -c "[ \$(ls /proc/$PX_PID/fd | wc -l) -ge 250 ]"
nfd=$(px_fds)
assert_ge "flood: the proxy reached its fd limit ($nfd fds)" "$nfd" 250
sleep 0.3
c0=$(px_cpu_ms)
sleep 2
c1=$(px_cpu_ms)
el=$(($(now_ms) - t0))
note "flood: ${nfd} fds held; CPU $((c1 - c0)) ms in 2 s (flood at ${el} ms)"
assert_le "flood: no spinning at the fd limit (CPU $((c1 - c0)) ms in 2 s)" $((c1 - c0)) 500
[ "$el" -le 4800 ] ||
    note "flood: the CPU window ended after ${el} ms, when the handshake timeout may already have freed some descriptors"
bo=$(grep -c 'accept on .*pausing' "$PX_LOG")
assert_ge "flood: accept back-off logged" "$bo" 1
assert_contains "flood: the log names the cause" "$(grep -m1 'accept on' "$PX_LOG")" \
    "Too many open files"
# A client arriving now is queued, and served once the handshake timeout
# has reaped the flood (while the flooder still holds its sockets).
r=$(gcurl -o /dev/null --max-time 15 -w '%{http_code} %{time_total}' "$U/ok/queued" 2>/dev/null)
el=$(($(now_ms) - t0))
assert_eq "flood: a queued client is served while the flood lasts" 200 "${r% *}"
assert_le "flood: ... before the flooder let go (${el} ms of 9000)" "$el" 9000
peak=$(px_rss)
wait "$fp"
note "flood client: $(tr '\n' ' ' <"$WORK/flood.out")"
assert_match "flood: the flooder connected 400 times" "$(cat "$WORK/flood.out")" 'CONNECTED 400'
assert_status "flood over: a normal request is served" 200 "$U/ok/after-flood"
rss_bounded "$rss0" "flood" "$peak"
fds_settle "$fd0" "flood"
cpu_total=$(px_cpu_ms)
note "flood proxy used ${cpu_total} ms CPU in all"
stop_proxy
assert_eq "flooded proxy exits 0" 0 "$?"
finish
