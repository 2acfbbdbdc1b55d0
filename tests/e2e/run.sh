#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Run every end-to-end test file (tests/e2e/t_*.sh, or the ones named on
# the command line), each bounded in time, and aggregate their
# "<test>: N passed, M failed" lines.  The last line printed is exactly
# "N passed, M failed"; the exit status is non-zero on any failure,
# including a test file that died without reporting.  BUILD selects the
# binaries (build or build-san), as for lib.sh.

set -u
DIR=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-build}
FILE_TIMEOUT=${FILE_TIMEOUT:-600}

if [ $# -gt 0 ]; then
	tests=()
	for t in "$@"; do
		case $t in
		*/*) tests+=("$t") ;;
		t_*.sh) tests+=("$DIR/$t") ;;
		*) tests+=("$DIR/t_$t.sh") ;;
		esac
	done
else
	tests=("$DIR"/t_*.sh)
fi

total_pass=0
total_fail=0
summary=()
start=$(date +%s)
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	echo "== $name"
	log=$(mktemp)
	t0=$(date +%s)
	timeout -k 10 "$FILE_TIMEOUT" bash "$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - t0))
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" "$log" | tail -n 1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "$name: died without a result (exit $rc)"
		total_fail=$((total_fail + 1))
		summary+=("$name: no result (exit $rc) ${secs}s")
		continue
	fi
	p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1		# exit status and report disagree: count it
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	summary+=("$line (${secs}s)")
done

echo
echo "== e2e summary ($(($(date +%s) - start))s, BUILD=$BUILD)"
for s in "${summary[@]}"; do echo "   $s"; done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
