#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Run the fault-injection tests (tests/faults/t_*.sh, or the ones named on
# the command line) through the end-to-end runner, which bounds each file
# in time and aggregates their "<test>: N passed, M failed" lines.  The
# last line printed is exactly "N passed, M failed"; the exit status is
# non-zero on any failure.  BUILD selects the binaries (build or
# build-san), as for tests/e2e/lib.sh.

set -u
DIR=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-build}

tests=()
if [ $# -gt 0 ]; then
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
exec bash "$DIR/../e2e/run.sh" "${tests[@]}"
