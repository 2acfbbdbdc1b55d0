#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Run the operations tests (tests/ops/t_*.sh, or those named on the command
# line as t_x.sh, x or a path), each under a time bound, and add up their
# "<test>: N passed, M failed" lines.  The last line printed is exactly
# "N passed, M failed"; the exit status is non-zero on any failure, and a
# file that ends without its result line (or whose exit status disagrees
# with a clean result) counts as one failure.  BUILD picks the binaries
# (build or build-san) as for tests/e2e/lib.sh.

set -u
DIR=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-build}
FILE_TIMEOUT=${FILE_TIMEOUT:-600}

tests=()
if [ $# -eq 0 ]; then
	tests=("$DIR"/t_*.sh)
else
	for a in "$@"; do
		case $a in
		*/*) tests+=("$a") ;;
		t_*.sh) tests+=("$DIR/$a") ;;
		*) tests+=("$DIR/t_$a.sh") ;;
		esac
	done
fi

npass=0
nfail=0
lines=()
t_all=$(date +%s)
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	echo "== $name"
	out=$(mktemp)
	t0=$(date +%s)
	if [ -f "$t" ]; then
		timeout -k 10 "$FILE_TIMEOUT" bash "$t" 2>&1 | tee "$out"
		rc=${PIPESTATUS[0]}
	else
		echo "no such test file: $t" | tee "$out"
		rc=127
	fi
	dt=$(($(date +%s) - t0))
	res=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$res" ]; then
		echo "$name: ended without a result (exit $rc)"
		nfail=$((nfail + 1))
		lines+=("$name: no result, exit $rc (${dt}s)")
		continue
	fi
	p=${res#*: }
	p=${p%% passed*}
	f=${res##*passed, }
	f=${f%% failed}
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	npass=$((npass + p))
	nfail=$((nfail + f))
	lines+=("$res (${dt}s)")
done

echo
echo "== ops summary ($(($(date +%s) - t_all))s, BUILD=$BUILD)"
for l in "${lines[@]}"; do echo "   $l"; done
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
