#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The Debian package (issue 16), on this machine, as root (`make deb-test`;
# CI runs it once, never under SANITIZE=1): dpkg-buildpackage -b builds
# gridfront_*.deb from a copy of the tree; lintian reports no error or
# warning (overrides carry their reasons in debian/); the package holds the
# binary in /usr/sbin, /etc/gridfront/gridfront.yaml as a conffile (the
# commented production example), the systemd unit, logrotate and the docs;
# `dpkg -i` installs it and postinst makes the gridfront system user and
# the log directory; `gridfront -t -c /etc/gridfront/gridfront.yaml` passes
# on the shipped example once the files it names exist (this test puts the
# test PKI there, only where nothing is, and takes it away again);
# `systemd-analyze verify` accepts the unit; `dpkg --purge` leaves nothing
# behind but the gridfront user (Debian policy keeps system users).
# Ends with "N passed, M failed"; exits non-zero on any failure.

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PKI=${PKI:-$ROOT/build/pki}
PASS=0
FAIL=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gf-deb.XXXXXX")
CREATED=()		# paths this test made for `gridfront -t`, to remove

pass() { PASS=$((PASS + 1)); echo "ok   $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1"; [ $# -gt 1 ] && printf '       %s\n' "$2"; return 0; }
check() { local d=$1; shift; if "$@" >"$WORK/check.out" 2>&1; then pass "$d"; else fail "$d" "$(tail -n 5 "$WORK/check.out")"; fi; }
finish() {
	echo "deb: $PASS passed, $FAIL failed"
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ] && rm -rf "$WORK"
	[ "$FAIL" -eq 0 ]
	exit
}
die() { fail "$1"; finish; }

cleanup_created() {
	local i
	for ((i = ${#CREATED[@]} - 1; i >= 0; i--)); do
		rm -rf "${CREATED[$i]}"
	done
	CREATED=()
}
trap 'cleanup_created' EXIT

[ "$(id -u)" = 0 ] || die "needs root (dpkg -i)"
for t in dpkg-buildpackage dh lintian systemd-analyze; do
	command -v "$t" >/dev/null || die "$t is not installed (bash .ci/deps.sh deb)"
done
[ -f "$PKI/server.pem" ] || die "no test PKI in $PKI (make pki)"
if dpkg-query -W -f='${Status}' gridfront 2>/dev/null | grep -q installed; then
	die "gridfront is already installed here; this test installs and purges it"
fi

# ------------------------------------------------------------------ build
SRC=$WORK/src/gridfront
mkdir -p "$SRC"
tar -C "$ROOT" --exclude=./build --exclude=./build-san --exclude=./build-fuzz \
    --exclude=./.git -cf - . | tar -C "$SRC" -xf -
t0=$(date +%s)
check "dpkg-buildpackage -b -us -uc" bash -c "cd '$SRC' && dpkg-buildpackage -b -us -uc >'$WORK/build.log' 2>&1 || { tail -n 20 '$WORK/build.log'; exit 1; }"
echo "# package build: $(($(date +%s) - t0)) s"
DEB=$(ls "$WORK"/src/gridfront_*_*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || die "no gridfront_*.deb built"
pass "built $(basename "$DEB")"
if grep -qE 'tests/(e2e|ops|unit|faults)/|build/tests/test_' "$WORK/build.log"; then
	fail "the package build does not run the test suite"
else pass "the package build does not run the test suite"; fi

lintian --fail-on error,warning "$WORK"/src/gridfront_*.changes >"$WORK/lintian.out" 2>&1
rc=$?
if [ $rc = 0 ] && ! grep -qE '^[EW]: ' "$WORK/lintian.out"; then
	pass "lintian: no error or warning (overrides in debian/ carry reasons)"
else fail "lintian: no error or warning" "$(grep -E '^[EW]: ' "$WORK/lintian.out" | head -n 5)"; fi

dpkg-deb -c "$DEB" | awk '{print $NF}' | sed 's|^\./|/|' >"$WORK/contents"
for f in /usr/sbin/gridfront /etc/gridfront/gridfront.yaml \
    /lib/systemd/system/gridfront.service /etc/logrotate.d/gridfront \
    /usr/share/doc/gridfront/README.md.gz /usr/share/doc/gridfront/copyright \
    /usr/share/doc/gridfront/examples/gridfront.yaml \
    /usr/share/doc/gridfront/monitoring/gridfront.rules.yaml.gz \
    /usr/share/man/man8/gridfront.8.gz; do
	if grep -qxF "$f" "$WORK/contents"; then pass "package holds $f"
	else fail "package holds $f"; fi
done
dpkg-deb -e "$DEB" "$WORK/control"
if grep -qxF /etc/gridfront/gridfront.yaml "$WORK/control/conffiles"; then
	pass "/etc/gridfront/gridfront.yaml is a conffile"
else fail "/etc/gridfront/gridfront.yaml is a conffile"; fi

# ------------------------------------------------------------------ install
# What exists before, to compare with what is left after the purge.  The
# package manager's own state and caches change by design: left out.
snapshot() {
	find /etc /usr /lib /opt /srv /var /data -xdev \
	    \( -path /var/lib/dpkg -o -path /var/cache -o -path /var/lib/apt \
	    -o -path /var/log -o -path /var/tmp -o -path /var/lib/ucf \
	    -o -path /usr/lib/python3 -o -path /var/lib/systemd/deb-systemd-helper-enabled \) \
	    -prune -o -print 2>/dev/null | sort
	find /var/log -xdev -path '/var/log/gridfront*' 2>/dev/null
}
snapshot >"$WORK/before"
check "dpkg -i" dpkg -i "$DEB"
check "postinst made the gridfront system user" bash -c \
    'u=$(getent passwd gridfront) && uid=$(echo "$u" | cut -d: -f3) && [ "$uid" -lt 1000 ]'
check "postinst made /var/log/gridfront for it" bash -c \
    '[ "$(stat -c %U /var/log/gridfront)" = gridfront ]'
check "installed binary runs" bash -c '/usr/sbin/gridfront --version | grep -q "^gridfront "'
check "installed config is the commented production example" \
    cmp "$ROOT/conf/examples/gridfront.yaml" /etc/gridfront/gridfront.yaml
check "systemd-analyze verify gridfront.service" bash -c \
    'out=$(systemd-analyze verify /lib/systemd/system/gridfront.service 2>&1); rc=$?; echo "$out"; [ $rc = 0 ] && ! grep -i gridfront.service <<<"$out"'

# The files the shipped example names: the test PKI, only where nothing is.
provide() {	# provide SRC DEST [MODE]
	local p=$2 top=$2
	if [ -e "$2" ]; then
		echo "# $2 exists already: used as it is"
		return
	fi
	while [ ! -e "$(dirname "$top")" ]; do top=$(dirname "$top"); done
	CREATED+=("$top")
	mkdir -p "$(dirname "$p")"
	cp -r "$1" "$p"
	[ -n "${3:-}" ] && chmod "$3" "$p"
}
ex=/etc/gridfront/gridfront.yaml
provide "$PKI/server.pem" /etc/grid-security/hostcert.pem
provide "$PKI/server.key" /etc/grid-security/hostkey.pem 0600
provide "$PKI/certificates" /etc/grid-security/certificates
provide "$PKI/vomsdir" /etc/grid-security/vomsdir
provide "$PKI/users.json" /data/cric/users.json
provide "$PKI/banned.txt" /etc/gridfront/banned.txt
printf '# HostIP list (auth: host)\n127.0.0.1 localhost\n' >"$WORK/hosts.txt"
provide "$WORK/hosts.txt" /etc/gridfront/hosts.txt
provide "$PKI/hmac.key" /etc/hmac/hmac 0600
# The example's token issuers: key sets (empty: no token verifies, but
# the files load) and the IAM subject map, as the fetcher would leave them.
echo '{"keys": []}' >"$WORK/jwks-empty.json"
echo '{}' >"$WORK/subjects.json"
for j in $(sed -n 's/^ *jwks: *\([^ #]*\).*/\1/p' "$ex"); do
	provide "$WORK/jwks-empty.json" "$j"
done
for m in $(sed -n 's/.*from: *subject_map, *file: *\([^ },]*\).*/\1/p' "$ex"); do
	provide "$WORK/subjects.json" "$m"
done
for k in ca_path vomsdir users banned hmac_key; do
	grep -qE "^  $k: " "$ex" || fail "example names auth.$k"
done
check "gridfront -t -c /etc/gridfront/gridfront.yaml (shipped example)" \
    /usr/sbin/gridfront -t -c "$ex"
cleanup_created

# ------------------------------------------------------------------ purge
check "dpkg --purge" dpkg --purge gridfront
for f in /usr/sbin/gridfront /etc/gridfront /lib/systemd/system/gridfront.service \
    /etc/logrotate.d/gridfront /var/log/gridfront /usr/share/doc/gridfront \
    /etc/systemd/system/multi-user.target.wants/gridfront.service; do
	if [ -e "$f" ] || [ -L "$f" ]; then fail "purged: $f is gone"
	else pass "purged: $f is gone"; fi
done
snapshot >"$WORK/after"
left=$(comm -13 "$WORK/before" "$WORK/after" | grep -vxE '/etc/(passwd|group|shadow|gshadow)-?' )
assert_left=$(echo "$left" | grep -v '^$' | head -n 10)
if [ -z "$assert_left" ]; then pass "purge leaves no new path behind"
else fail "purge leaves no new path behind" "$assert_left"; fi
check "the gridfront user is kept (Debian policy)" getent passwd gridfront
finish
