#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Running out of file descriptors: the proxy, started under a small
# `ulimit -n`, is flooded with more connections than it can hold.  It must
# not busy-loop on accept (its CPU time stays low while the flood holds),
# must not crash, and must serve normally once the flood is gone.  The
# max_connections limit behaves the same way.  Afterwards its fd count is
# back to where it started (no leak).

. "$(dirname "$0")/lib.sh"

start_backend b1

# cpu_ticks PID: user + system clock ticks used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)

# flood_case NAME ULIMIT EXTRA_YAML
flood_case() {
	local name=$1 lim=$2 extra=$3 fd0 t0 t1 used
	PX_PORT=
	std_conf "$WORK/$name.yaml" "$(route / b1)" "$extra"
	GF_ULIMIT_N=$lim start_proxy "$WORK/$name.yaml"
	local U
	U=$(px_url)
	assert_status "$name: serves before the flood" 200 "$U/before"
	fd0=$(px_fds)

	timeout 20 "$RAW" --port "$PX_PORT" --flood 300 --hold-ms 3000 \
	    >"$WORK/$name.flood" 2>/dev/null &
	local fpid=$!
	sleep 1
	t0=$(cpu_ticks "$PX_PID")
	sleep 1.5
	t1=$(cpu_ticks "$PX_PID")
	used=$(( (t1 - t0) * 1000 / HZ ))
	assert_le "$name: no busy loop while out of fds (${used} ms CPU in 1.5 s)" \
	    "$used" 300
	if alive "$PX_PID"; then pass "$name: survives the flood"
	else fail "$name: survives the flood"; fi
	wait "$fpid"
	note "$name: $(tr '\n' ' ' <"$WORK/$name.flood")"

	local ok=0 i
	for i in $(seq 1 20); do
		if [ "$(gcurl -o /dev/null -w '%{http_code}' "$U/after" 2>/dev/null)" = 200 ]; then
			ok=1
			break
		fi
		sleep 0.25
	done
	assert_eq "$name: serves again within 5 s of the flood ending" 1 "$ok"
	sleep 0.5
	assert_le "$name: fd count back to its start ($fd0 -> $(px_fds))" \
	    "$(px_fds)" $((fd0 + 2))
	stop_proxy
	assert_eq "$name: exits 0 afterwards" 0 "$?"
}

flood_case ulimit 64 ""
flood_case maxconn 1024 "limits:
  max_connections: 20"

finish
