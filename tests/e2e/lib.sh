# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Shared helpers for the end-to-end tests, sourced by every tests/e2e/t_*.sh.
# It owns the per-test work directory, the test PKI, starting and stopping
# backends (tests/e2e/backend.c) and the proxy with a generated config,
# bounded waits, and the assertion helpers that count passes and failures.
# Every step runs under `timeout`, every process started here is killed by
# the EXIT trap, and every test file ends with finish(), which prints
# "<test>: N passed, M failed" (the line run.sh aggregates).
#
# Environment: BUILD (default build) picks $BUILD/gridfront,
# $BUILD/tests/backend and $BUILD/tests/rawclient; PKI (default $BUILD/pki)
# is where tests/fixtures/certs/mkcerts.sh puts the test PKI; KEEP=1 keeps
# the work directory; VERBOSE=1 prints passing checks too; GF_WRAP runs the
# proxy under a tool (valgrind, gdb) and GF_READY_S (default 10) bounds its
# start-up.

set -u
set -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
GF=$BUILD/gridfront
BACKEND=$BUILD/tests/backend
RAW=$BUILD/tests/rawclient
PKI=${PKI:-$BUILD/pki}
case $PKI in /*) ;; *) PKI=$ROOT/$PKI ;; esac
T_NAME=$(basename "$0" .sh)
T_STEP=${T_STEP:-20}		# seconds any single step may take

PASS=0
FAIL=0
FAILED_CHECKS=()
declare -A BE_PORT=() BE_PID=()
PIDS=()
PX_PID=
PX_PORT=
PX_PLAIN_PORT=
PX_CONF=
PX_LOG=
PX_OUT=

mkdir -p "${TMPDIR:-/tmp}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gf-e2e-$T_NAME.XXXXXX")

# ---------------------------------------------------------------- reporting

note() { printf '# %s\n' "$*"; }

pass() {
	PASS=$((PASS + 1))
	[ "${VERBOSE:-0}" = 1 ] && printf 'ok   %s\n' "$1"
	return 0
}

fail() {
	FAIL=$((FAIL + 1))
	FAILED_CHECKS+=("$1")
	printf 'FAIL %s\n' "$1"
	shift
	local l
	for l in "$@"; do printf '       %s\n' "$l"; done
	return 0
}

# assert_eq DESC EXPECTED ACTUAL
assert_eq() {
	if [ "$2" == "$3" ]; then pass "$1"
	else fail "$1" "expected: $(printf %q "$2")" "got:      $(printf %q "$3")"; fi
}

# assert_ne DESC UNEXPECTED ACTUAL
assert_ne() {
	if [ "$2" != "$3" ]; then pass "$1"
	else fail "$1" "expected anything but: $(printf %q "$2")"; fi
}

# assert_contains DESC HAYSTACK NEEDLE (fixed string)
assert_contains() {
	if [[ "$2" == *"$3"* ]]; then pass "$1"
	else fail "$1" "expected to contain: $(printf %q "$3")" \
	    "in: $(printf %q "${2:0:600}")"; fi
}

# assert_not_contains DESC HAYSTACK NEEDLE
assert_not_contains() {
	if [[ "$2" != *"$3"* ]]; then pass "$1"
	else fail "$1" "expected NOT to contain: $(printf %q "$3")" \
	    "in: $(printf %q "${2:0:600}")"; fi
}

# assert_match DESC STRING ERE
assert_match() {
	if [[ "$2" =~ $3 ]]; then pass "$1"
	else fail "$1" "expected to match /$3/" "got: $(printf %q "${2:0:600}")"; fi
}

# assert_le DESC A B   (integers: A <= B)
assert_le() {
	if [[ "$2" =~ ^-?[0-9]+$ && "$3" =~ ^-?[0-9]+$ ]] && [ "$2" -le "$3" ]; then
		pass "$1"
	else fail "$1" "expected $2 <= $3"; fi
}

# assert_ge DESC A B   (integers: A >= B)
assert_ge() {
	if [[ "$2" =~ ^-?[0-9]+$ && "$3" =~ ^-?[0-9]+$ ]] && [ "$2" -ge "$3" ]; then
		pass "$1"
	else fail "$1" "expected $2 >= $3"; fi
}

# assert_true DESC COMMAND...   (passes when the command succeeds)
assert_true() {
	local d=$1; shift
	if timeout "$T_STEP" "$@" >/dev/null 2>&1; then pass "$d"
	else fail "$d" "command failed: $*"; fi
}

# assert_status DESC EXPECTED URL [curl args...]
# EXPECTED may be a code (404), a class (4xx) or an ERE (^50[234]$).
assert_status() {
	local d=$1 exp=$2 url=$3; shift 3
	local got
	got=$(gcurl -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null)
	status_ok "$exp" "$got" && pass "$d" ||
	    fail "$d" "expected status $exp" "got $got for $url"
}

# status_ok EXPECTED GOT
status_ok() {
	case $1 in
	[1-5]xx) [[ "$2" =~ ^${1:0:1}[0-9][0-9]$ ]] ;;
	^*) [[ "$2" =~ $1 ]] ;;
	*) [ "$1" = "$2" ] ;;
	esac
}

# finish: print the counts and exit non-zero on any failure.
finish() {
	local f
	if [ "$FAIL" -gt 0 ]; then
		note "failed checks in $T_NAME:"
		for f in "${FAILED_CHECKS[@]}"; do note "  $f"; done
		note "work directory kept: $WORK"
		KEEP=1
	fi
	echo "$T_NAME: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit $?
}

# die MESSAGE: a set-up step failed; count it and stop this file.
die() {
	fail "setup: $1"
	[ -n "$PX_LOG" ] && [ -f "$PX_LOG" ] && tail -n 20 "$PX_LOG" | sed 's/^/# proxy: /'
	finish
}

# ---------------------------------------------------------------- cleanup

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			alive "$p" || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'fail "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- utilities

need_bins() {
	local b
	for b in "$GF" "$BACKEND" "$RAW"; do
		[ -x "$b" ] || die "missing $b (run: make $b)"
	done
	command -v curl >/dev/null || die "curl is not installed"
	command -v jq >/dev/null || die "jq is not installed"
}

# free_port: print a currently unused loopback port.
free_port() { "$RAW" --free-port; }

# wait_until SECONDS COMMAND...: poll every 0.05 s until COMMAND succeeds.
wait_until() {
	local secs=$1 i=0 n; shift
	n=$((secs * 20))
	while [ $i -lt $n ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# port_open PORT: does something accept on 127.0.0.1:PORT?
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

now_ms() { date +%s%3N; }

# alive PID: is it running?  (A zombie, dead but not yet reaped by us,
# answers kill -0 and must not count.)
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# pki_init: make sure the test PKI exists (mkcerts.sh is idempotent).
pki_init() {
	local mk=$ROOT/tests/fixtures/certs/mkcerts.sh
	if [ -f "$PKI/.done" ] && [ -f "$PKI/server.pem" ]; then return 0; fi
	[ -f "$mk" ] || die "no $mk"
	timeout 300 bash "$mk" "$PKI" >"$WORK/mkcerts.log" 2>&1 ||
	    { cat "$WORK/mkcerts.log"; die "mkcerts.sh failed"; }
	[ -f "$PKI/server.pem" ] || die "mkcerts.sh made no server.pem"
}

# ---------------------------------------------------------------- backends

# start_backend NAME [backend args...]: start one on a free port; sets
# BE_PORT[NAME] and BE_PID[NAME].
start_backend() {
	local name=$1; shift
	local out=$WORK/be-$name.out
	"$BACKEND" --port 0 --id "$name" "$@" >"$out" 2>"$WORK/be-$name.err" &
	local pid=$!
	PIDS+=("$pid")
	wait_until 5 grep -q '^PORT ' "$out" || die "backend $name did not start"
	BE_PID[$name]=$pid
	BE_PORT[$name]=$(awk '/^PORT /{print $2; exit}' "$out")
}

stop_backend() {
	local name=$1 pid=${BE_PID[$1]}
	kill -TERM "$pid" 2>/dev/null
	wait_until 5 eval "! alive $pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

be_url() { echo "http://127.0.0.1:${BE_PORT[$1]}"; }

# be_stats NAME [FIELD]: the backend's /__stats (asked directly, not
# through the proxy; such connections are left out of the counts).
be_stats() {
	local j
	j=$(curl -s --max-time 5 "$(be_url "$1")/__stats") || { echo "?"; return; }
	if [ $# -ge 2 ]; then jq -r ".$2" <<<"$j"; else echo "$j"; fi
}

be_reset() { curl -s --max-time 5 -o /dev/null "$(be_url "$1")/__reset"; }

# ---------------------------------------------------------------- proxy

# std_conf FILE ROUTES [EXTRA]: write a config with one TLS listener on
# PX_PORT (picked here), the given routes (YAML list items, indented two
# spaces) and EXTRA top-level YAML (timeouts:, limits: ...).
std_conf() {
	local file=$1 routes=$2 extra=${3:-}
	PX_PORT=${PX_PORT:-$(free_port)}
	cat >"$file" <<EOF
# generated by tests/e2e/lib.sh for $T_NAME
workers: ${GF_WORKERS:-1}
listen:
  - address: 127.0.0.1:$PX_PORT
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
$routes
$extra
EOF
}

# route PATH BACKEND-NAME... : one "auth: none" route item for std_conf.
route() {
	local path=$1 b list=""; shift
	for b in "$@"; do list="$list${list:+, }$(be_url "$b")"; done
	printf '  - path: "%s"\n    auth: none\n    backends: [%s]\n' "$path" "$list"
}

# start_proxy CONF: start gridfront and wait for "gridfront: ready".
# GF_ULIMIT_N=N runs it under `ulimit -n N` (the same pid: bash execs it).
start_proxy() {
	PX_CONF=$1
	PX_LOG=$WORK/gridfront.$(basename "$1" .yaml).err
	PX_OUT=$WORK/gridfront.$(basename "$1" .yaml).out
	: >"$PX_LOG"
	# GF_WRAP (word-split on purpose) runs it under a tool, e.g.
	# GF_WRAP="valgrind --error-exitcode=99 -q" (with GF_READY_S=60).
	local wrap=()
	[ -n "${GF_WRAP:-}" ] && read -r -a wrap <<<"$GF_WRAP"
	if [ -n "${GF_ULIMIT_N:-}" ]; then
		bash -c 'ulimit -n "$1" && shift && exec "$@"' _ "$GF_ULIMIT_N" \
		    "${wrap[@]}" "$GF" -c "$PX_CONF" >"$PX_OUT" 2>"$PX_LOG" &
	else
		"${wrap[@]}" "$GF" -c "$PX_CONF" >"$PX_OUT" 2>"$PX_LOG" &
	fi
	PX_PID=$!
	PIDS+=("$PX_PID")
	local i=0
	while [ $i -lt $((${GF_READY_S:-10} * 20)) ]; do
		grep -q 'gridfront: ready' "$PX_LOG" && return 0
		alive "$PX_PID" || break
		sleep 0.05
		i=$((i + 1))
	done
	sed 's/^/# proxy: /' "$PX_LOG" | tail -n 30
	die "proxy did not become ready with $PX_CONF"
}

# stop_proxy [SIGNAL]: stop it, check it exited cleanly and that the
# sanitizers (when built in) had nothing to say.
stop_proxy() {
	local sig=${1:-TERM} rc
	[ -n "$PX_PID" ] || return 0
	kill "-$sig" "$PX_PID" 2>/dev/null
	if ! wait_until 15 eval "! alive $PX_PID"; then
		fail "proxy exits within 15 s of SIG$sig"
		kill -KILL "$PX_PID" 2>/dev/null
	fi
	wait "$PX_PID" 2>/dev/null
	rc=$?
	PX_PID=
	# 128+N: killed by signal N, ours (KILL above) or a crash.
	[ "$rc" -gt 128 ] && note "proxy exit status $rc (signal $((rc - 128)))"
	check_sanitizers
	return $rc
}

# check_sanitizers: fail when ASan/UBSan/LSan reported anything.
check_sanitizers() {
	local f
	for f in "$WORK"/gridfront.*.err; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|==[0-9]+== (Invalid|Conditional|Syscall param|Mismatched)|definitely lost: [1-9]' "$f"; then
			fail "sanitizer report in $(basename "$f")" \
			    "$(grep -m3 -E 'ERROR:|runtime error:|#[0-3] ' "$f" | tr '\n' ' ')"
			mv "$f" "$f.reported"
		fi
	done
}

px_url() { echo "https://127.0.0.1:$PX_PORT"; }

# px_fds: how many file descriptors the proxy has open.
px_fds() { ls "/proc/$PX_PID/fd" 2>/dev/null | wc -l; }

# sanitized: was gridfront built with ASan?  (Its quarantine keeps freed
# memory resident, so RSS bounds are only checked in plain builds.)  The
# Makefile writes $BUILD/.sanitize (1 or 0) with every link of gridfront;
# no marker is an error, never a guess.  (It used to be `ldd | grep -q`
# under pipefail: ldd killed by SIGPIPE after grep's early exit made an
# ASan build look plain about 1 time in 200.)  A running proxy whose
# mapped libraries disagree with the marker (the binary was replaced
# under the test) is a failure too.
sanitized() {
	local m asan=0
	[ -f "$BUILD/.sanitize" ] ||
	    die "no $BUILD/.sanitize: run make $BUILD/.sanitize (with SANITIZE=1 for build-san)"
	m=$(<"$BUILD/.sanitize")
	[ "$m" = 0 ] || [ "$m" = 1 ] || die "bad $BUILD/.sanitize: $m"
	if [ -n "$PX_PID" ] && [ -r "/proc/$PX_PID/maps" ]; then
		grep -q libasan "/proc/$PX_PID/maps" && asan=1
		[ "$asan" = "$m" ] ||
		    die "running proxy (asan=$asan) is not the build in $BUILD (.sanitize=$m)"
	fi
	[ "$m" = 1 ]
}

# px_rss_kb: the proxy's resident set size.
px_rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$PX_PID/status" 2>/dev/null || echo 0; }

# gcurl ARGS...: curl against the proxy with the test CA, bounded in time.
# Pinned to HTTP/1.1 (the proxy offers h2 by ALPN); a later --http2 in
# ARGS wins, which is how the HTTP/2 tests ask for it.
gcurl() {
	timeout "$T_STEP" curl -sS --http1.1 --max-time "$T_STEP" \
	    --cacert "$PKI/ca-bundle.pem" "$@"
}

# ---------------------------------------------------------------- raw

# raw REQUEST [rawclient args...]: send REQUEST (with \r\n escapes) to the
# proxy's TLS port.  Output in $WORK/raw.out, report in $WORK/raw.err;
# RAW_OUT holds the response text.
raw() {
	local req=$1; shift
	printf '%s' "$req" | timeout "$T_STEP" "$RAW" --host 127.0.0.1 \
	    --port "$PX_PORT" --escape --expect-close --timeout-ms 3000 "$@" \
	    >"$WORK/raw.out" 2>"$WORK/raw.err"
	RAW_RC=$?
	RAW_OUT=$(tr -d '\000' <"$WORK/raw.out")
	RAW_ERR=$(cat "$WORK/raw.err")
	return 0
}

# raw_status: the status code of the first response, or "none".
raw_status() {
	local l
	l=$(head -n 1 "$WORK/raw.out" | tr -d '\r')
	if [[ "$l" =~ ^HTTP/1\.[01]\ ([0-9]{3}) ]]; then
		echo "${BASH_REMATCH[1]}"
	else echo none; fi
}

# raw_nresponses: how many status lines came back (1xx interim included).
# (Anywhere, not only at line starts: a body need not end in a newline.)
raw_nresponses() { grep -a -o -E 'HTTP/1\.[01] [0-9]{3} ' "$WORK/raw.out" | wc -l; }

# raw_header NAME: the value of NAME in the first response head.
raw_header() {
	awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" '
	    { sub(/\r$/, "") }
	    NR > 1 && $0 == "" { exit }
	    NR > 1 { i = index($0, ":"); k = tolower(substr($0, 1, i - 1));
	      if (k == n) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v);
	        sub(/[ \t]+$/, "", v); print v; exit } }' "$WORK/raw.out"
}

# raw_closed: did the peer close (or reset) the connection?
raw_closed() { grep -qE '^(CLOSED|RESET)$' "$WORK/raw.err"; }

raw_elapsed() { awk '/^ELAPSED_MS/{print $2}' "$WORK/raw.err"; }

# json_headers JSON NAME: every value of header NAME (case-insensitive)
# in a backend echo report, one per line.
json_headers() {
	jq -r --arg n "$(echo "$2" | tr 'A-Z' 'a-z')" \
	    '.headers[] | select(.[0] | ascii_downcase == $n) | .[1]' <<<"$1"
}

json_has_header() { [ -n "$(json_headers "$1" "$2")" ] || \
    jq -e --arg n "$(echo "$2" | tr 'A-Z' 'a-z')" \
    '[.headers[] | select(.[0] | ascii_downcase == $n)] | length > 0' \
    <<<"$1" >/dev/null; }

# body_of FILE: the body of the first raw HTTP response in FILE.
body_of() { awk 'f { print } /^\r?$/ && !f { f = 1 }' "$1"; }

need_bins
pki_init

# h2_python: set H2_PY to the python3 that has python3-h2, -hyperframe
# and hpack (Debian installs them for the system python, which may not be
# the first python3 on PATH); dies when there is none.  Call it directly,
# not in $(...), so that die ends the test.
h2_python() {
	local py
	for py in /usr/bin/python3 python3; do
		if command -v "$py" >/dev/null 2>&1 &&
		    "$py" -c 'import h2, hyperframe, hpack' >/dev/null 2>&1; then
			H2_PY=$py
			return 0
		fi
	done
	die "python3-h2 and python3-hyperframe are not installed (.ci/deps.sh)"
}
