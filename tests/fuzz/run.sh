#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Run libFuzzer targets for a bounded time: `make fuzz` calls
#   tests/fuzz/run.sh BUILD_DIR TARGET...
# with FUZZ_SECONDS (per target, default 60) and FUZZ_JOBS (targets run at
# once, default 2).  Each target fuzzes a scratch copy of its seed corpus
# (BUILD_DIR/fuzz-work/<t>/corpus) with its dictionary; crashes, leaks,
# timeouts and failed invariants land in BUILD_DIR/fuzz-work/<t>/artifacts/
# and make the run fail.  The seed corpora in tests/fuzz/corpus/ are not
# touched; FUZZ_MERGE=1 merges what a run found back into them
# (-merge=1: only inputs that add coverage).  A summary line per target
# gives the executions per second and libFuzzer's final cov:/ft: numbers.

set -u

build=${1:?usage: run.sh BUILD_DIR TARGET...}
shift
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
here=$(cd "$(dirname "$0")" && pwd)
work=$build/fuzz-work

# Inputs larger than this are not generated (config and JSON files and
# ACs with an embedded certificate are bigger than HTTP heads).
maxlen() {
	case $1 in
	conf|cric) echo 16384 ;;
	voms) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

# fuzz_one TARGET: run it, then print its summary line to its log.
fuzz_one() {
	local t=$1 d=$work/$1 bin=$build/fuzz/fuzz_$1 rc
	rm -rf "$d"
	mkdir -p "$d/corpus" "$d/artifacts"
	if [ -d "$here/corpus/$t" ]; then
		cp "$here/corpus/$t"/* "$d/corpus/" 2>/dev/null
	fi
	ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -max_len="$(maxlen "$t")" -dict="$here/$t.dict" \
	    -artifact_prefix="$d/artifacts/" -print_final_stats=1 \
	    -reload=0 "$d/corpus" >"$d/log" 2>&1
	rc=$?
	if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$rc" = 0 ]; then
		mkdir -p "$here/corpus/$t"
		"$bin" -merge=1 -max_len="$(maxlen "$t")" "$here/corpus/$t" \
		    "$d/corpus" >"$d/merge.log" 2>&1
	fi
	echo "$rc" >"$d/rc"
}

summary() {
	local t=$1 d=$work/$1 rc last execs eps cov ft
	rc=$(cat "$d/rc" 2>/dev/null || echo '?')
	last=$(grep -E '^#[0-9]+' "$d/log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/log")
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	printf '%-13s %4ss  execs %10s  exec/s %7s  cov %6s  ft %6s  %s\n' \
	    "$t" "$secs" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" \
	    "$([ "$rc" = 0 ] && echo ok || echo "FAILED (rc $rc): see $d/log")"
}

mkdir -p "$work"
running=0
for t in "$@"; do
	if [ ! -x "$build/fuzz/fuzz_$t" ]; then
		echo "run.sh: $build/fuzz/fuzz_$t not built" >&2
		exit 2
	fi
	fuzz_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

fail=0
for t in "$@"; do
	summary "$t"
	[ "$(cat "$work/$t/rc" 2>/dev/null)" = 0 ] || fail=1
	for a in "$work/$t/artifacts"/*; do
		[ -e "$a" ] && echo "  artifact: $a"
	done
done
exit $fail
