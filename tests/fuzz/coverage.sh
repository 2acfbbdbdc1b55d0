#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Source coverage reached by the fuzz corpora, per target: `make fuzz-cov`
# builds the replay binaries with clang's source-based coverage in
# BUILD_DIR, then calls
#   tests/fuzz/coverage.sh BUILD_DIR TARGET...
# which replays tests/fuzz/corpus/<t>/ and tests/fuzz/regress/<t>/ (with
# FUZZ_LAX=1, so an open finding does not end the run before the profile
# is written) and prints llvm-cov's line, region and function coverage of
# the module files each target exists for.  Complements libFuzzer's cov:
# and ft: numbers, which count edges in every instrumented file.

set -u
build=${1:?usage: coverage.sh BUILD_DIR TARGET...}
shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$build/fuzz-cov
mkdir -p "$out"

# The files a target is meant to cover.
sources() {
	case $1 in
	http_request|chunked) echo proxy/http.c ;;
	path_route) echo proxy/http.c conf/route.c ;;
	conf) echo conf/conf.c conf/errs.c conf/keys.c conf/keys_ctx.c \
	    conf/keys_value.c conf/keys_route.c conf/yaml.c conf/route.c ;;
	dn) echo auth/dn.c auth/sign.c ;;
	cric) echo auth/dnmap.c ;;
	voms) echo auth/voms.c ;;
	esac
}

rc=0
for t in "$@"; do
	bin=$build/fuzz/replay_$t
	rm -f "$out/$t".profraw "$out/$t".profdata
	FUZZ_LAX=1 LLVM_PROFILE_FILE="$out/$t.profraw" \
	    ASAN_OPTIONS=detect_leaks=0 \
	    "$bin" "$here/corpus/$t" "$here/regress/$t" >/dev/null 2>&1 ||
	    rc=1
	if [ ! -s "$out/$t.profraw" ]; then
		echo "coverage.sh: $t: no profile written" >&2
		rc=1
		continue
	fi
	llvm-profdata merge -sparse -o "$out/$t.profdata" "$out/$t.profraw"
	echo "== $t: $(sources "$t") ($(ls "$here/corpus/$t" | wc -l) corpus files)"
	# shellcheck disable=SC2046
	(cd "$root" && llvm-cov report "$bin" \
	    -instr-profile="$out/$t.profdata" $(sources "$t")) |
	    awk 'NR == 1 || /^[a-z]/ || /^TOTAL/'
done
exit $rc
