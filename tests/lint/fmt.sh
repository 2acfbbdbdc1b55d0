#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# make fmt-check: the KNF rules of STYLE.md, checked over every C file of
# base/ conf/ auth/ proxy/ (and their headers).  clang-format 14 cannot
# express KNF's declaration alignment (a tab after the type, a space where
# a pointer star would stand), so a reformat with it would churn every
# declaration; .clang-format is kept for editors and for new code, and this
# script checks what the tree must hold to:
#   - lines at most 80 columns, tabs counted to the next multiple of 8;
#   - no trailing white space, no carriage return;
#   - indentation by tabs: 8 spaces never stand for a tab (outside block
#     comments); continuation lines are tabs and then fewer than 8
#     spaces;
#   - a function definition has its return type on a line of its own, so
#     that `grep -n '^name('` finds it (a line at column 0 that names a
#     type and a function and is followed by a lone "{" is refused);
#   - a file ends with a newline.
# Prints one "file:line: rule" per finding and exits 1 on any.

set -u
cd "$(dirname "$0")/../.."

files=$(ls base/*.[ch] conf/*.[ch] auth/*.[ch] proxy/*.[ch] 2>/dev/null)
# shellcheck disable=SC2086
awk '
function width(s,    i, c, w) {
	w = 0
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\t")
			w = w - w % 8 + 8
		else
			w++
	}
	return w
}
function report(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg
	bad++
}
FNR == 1 {
	if (prevfile != "" && prevlast != "")
		;	# newline at EOF is checked with tail below
	incomment = 0
	prev = ""
	prevfile = FILENAME
}
{
	line = $0
	if (line ~ /\r$/)
		report("carriage return")
	if (line ~ /[ \t]+$/)
		report("trailing white space")
	if (width(line) > 80)
		report("longer than 80 columns")
	# Leading spaces: block-comment bodies and continuations (up to 7
	# spaces, as the 4 of KNF after a top-level line) only.
	if (line ~ /^        / && !incomment)
		report("indented with spaces, not tabs")
	if (line ~ /^\t+        /)
		report("8 or more spaces after the indenting tabs")
	# Return type on its own line: "type name(args)" then "{".
	if (line == "{" && prev ~ /^[A-Za-z_][A-Za-z0-9_ \t*]*[ \t*][A-Za-z_][A-Za-z0-9_]*\(/ &&
	    prev !~ /^(if|for|while|switch|return|else|do)[ (]/ &&
	    prev !~ /^(struct|union|enum)[ \t]+[A-Za-z0-9_]+[ \t]*$/ &&
	    prev !~ /=/)
		report("function definition: return type not on its own line (previous line)")
	# Track block comments (good enough for this tree: no "/*" in
	# strings at the start of a line).
	tmp = line
	while (1) {
		if (!incomment) {
			p = index(tmp, "/*")
			if (p == 0)
				break
			incomment = 1
			tmp = substr(tmp, p + 2)
		} else {
			p = index(tmp, "*/")
			if (p == 0)
				break
			incomment = 0
			tmp = substr(tmp, p + 2)
		}
	}
	prev = line
}
END { exit bad > 0 }
' $files
rc=$?
for f in $files; do
	if [ -s "$f" ] && [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then
		echo "$f: no newline at end of file"
		rc=1
	fi
done
if [ "$rc" -eq 0 ]; then
	echo "fmt-check: $(echo "$files" | wc -w) files follow the KNF rules"
fi
exit "$rc"
