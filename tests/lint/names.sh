#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# `make names-check`: every exported symbol of every object under
# BUILD/{base,conf,auth,proxy} starts with its file's stem (STYLE.md 8.3,
# "the module prefix is the file stem").  For dir/stem.c a symbol passes
# when it is, or starts with "<p>_", for p in:
#   stem            conf/route.c: route_match
#   dir_stem        conf/errs.c: conf_errs_add, conf/conf.c: conf_load
#   module          the stem up to its first '_', for a file that is one
#   dir_module      part of a split module: conf/keys_value.c exports
#                   keys_get_uint, auth/x509_cache.c x509_*
# Anything else must be listed in tests/lint/names.allow ("file symbol"
# per line), which holds the names STYLE.md fixes (xmalloc, fatalx...)
# and the known exceptions, each with its reason.
# Usage: tests/lint/names.sh [BUILD]  (objects must be built; the
# Makefile rule builds them first).  Exits 1 on any unlisted symbol, and
# on an allow-list line that no longer matches anything (so the list
# shrinks when a symbol is renamed).

set -u
cd "$(dirname "$0")/../.."
build=${1:-build}
allow=tests/lint/names.allow

# "file symbol" pairs from the allow-list, comments and blanks dropped.
allowed=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$allow" |
    awk '{ print $1 " " $2 }')

rc=0
n=0
used=""
for src in base/*.c conf/*.c auth/*.c proxy/*.c; do
	[ -e "$src" ] || continue
	obj=$build/${src%.c}.o
	if [ ! -f "$obj" ]; then
		echo "names-check: $obj missing (build it first)" >&2
		rc=1
		continue
	fi
	dir=${src%%/*}
	stem=$(basename "$src" .c)
	mod=${stem%%_*}
	syms=$(nm --defined-only --extern-only "$obj" | awk 'NF == 3 { print $3 }')
	for sym in $syms; do
		n=$((n + 1))
		ok=0
		for p in "$stem" "${dir}_$stem" "$mod" "${dir}_$mod"; do
			case $sym in
			"$p"|"$p"_*) ok=1; break ;;
			esac
		done
		[ $ok = 1 ] && continue
		if grep -qxF "$src $sym" <<<"$allowed"; then
			used="$used$src $sym"$'\n'
			continue
		fi
		echo "$src: exported symbol '$sym' does not start with" \
		    "'${stem}_' or '${dir}_${stem}_' (rename it, make it" \
		    "static, or list it in $allow)"
		rc=1
	done
done

# Stale allow-list entries: the symbol was renamed or the file moved.
while read -r line; do
	[ -n "$line" ] || continue
	if ! grep -qxF "$line" <<<"$used"; then
		echo "$allow: '$line' is no longer exported; remove the line"
		rc=1
	fi
done <<<"$allowed"

if [ $rc = 0 ]; then
	echo "names-check: $n exported symbols follow the file-stem rule" \
	    "($(grep -c . <<<"$allowed") allow-listed)"
fi
exit $rc
