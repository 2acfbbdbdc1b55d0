#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Static analysis for `make lint`: clang-tidy with the repository's
# .clang-tidy (security and bug-prone checks) and cppcheck (warning,
# portability, performance) over the C sources of base/, proxy/, auth/
# and conf/.
# Usage: tests/lint/lint.sh [COMPILER FLAGS...]; the Makefile passes its
# ALL_CFLAGS so clang-tidy sees the same includes and macros as the build.
# Exits 1 on any finding.  Suppressions are inline and carry their reason:
#   /* NOLINTNEXTLINE(check-name): why */           for clang-tidy
#   // cppcheck-suppress id ; why  (or the C comment form)  for cppcheck
# plus the few global ones in tests/lint/cppcheck.supp, each justified
# there.  LINT_TOOLS=tidy or LINT_TOOLS=cppcheck runs one tool only.

set -u
cd "$(dirname "$0")/../.."

if [ $# -gt 0 ]; then
	flags=("$@")
else
	# Same as the Makefile's ALL_CFLAGS, for running this script by hand.
	read -r -a flags <<<"-std=gnu11 -D_GNU_SOURCE -I. \
	    -I/usr/share/include/llhttp -DLLHTTP_STRICT_MODE=1 \
	    $(pkg-config --cflags openssl libevent libevent_openssl \
	    libevent_pthreads yaml-0.1 jansson 2>/dev/null)"
fi
tools=${LINT_TOOLS:-tidy cppcheck}
srcs=(base/*.c proxy/*.c auth/*.c conf/*.c)
rc=0

if [[ " $tools " == *" tidy "* ]]; then
	if ! command -v clang-tidy >/dev/null; then
		echo "lint: clang-tidy not installed" >&2
		exit 2
	fi
	echo "== clang-tidy (${#srcs[@]} files)"
	out=$(mktemp)
	# -Werror and the like are build policy, not tidy's business.
	clang-tidy --quiet "${srcs[@]}" -- "${flags[@]}" -Wno-error \
	    >"$out" 2>/dev/null
	trc=$?
	grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error):' "$out" |
	    sed 's/,-warnings-as-errors\]/]/' | sort -u
	n=$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: (warning|error):' "$out")
	if [ "$trc" != 0 ] || [ "$n" != 0 ]; then
		echo "clang-tidy: $n finding(s)"
		rc=1
	else
		echo "clang-tidy: clean"
	fi
	rm -f "$out"
fi

if [[ " $tools " == *" cppcheck "* ]]; then
	if ! command -v cppcheck >/dev/null; then
		echo "lint: cppcheck not installed" >&2
		exit 2
	fi
	echo "== cppcheck"
	# Only the project's own headers: system headers make cppcheck slow
	# and add nothing its library files (--library) do not describe.
	defs=()
	for f in "${flags[@]}"; do
		case $f in
		-D*|-I.|-I/usr/share/include/llhttp) defs+=("$f") ;;
		esac
	done
	cppcheck --quiet --std=c11 --language=c \
	    --enable=warning,portability,performance \
	    --library=posix --library=gnu --library=openssl \
	    --library=tests/lint/openssl-asn1.cfg \
	    --inline-suppr --suppressions-list=tests/lint/cppcheck.supp \
	    --error-exitcode=1 -j 2 \
	    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	    "${defs[@]}" "${srcs[@]}"
	if [ $? != 0 ]; then
		echo "cppcheck: findings above"
		rc=1
	else
		echo "cppcheck: clean"
	fi
fi
exit $rc
