#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Per-route auth policy and the auth files, end to end: require_fqan (any
# one FQAN suffices, an untrusted AC grants nothing), allow_from (refused
# from 127.0.0.1 by a 10.0.0.0/8 list on every auth mode, accepted by a
# second proxy whose list holds 127.0.0.0/8), CRLs that fail closed (an
# expired or a missing CRL of the issuing CA refuses its users and their
# proxies with a reason naming the CRL), the HMAC key taken as raw bytes
# (a trailing newline is part of it), and a proxy that refuses to start on
# a missing, empty or world-readable key file or a directory.
# Denials are checked for the plain-language reason, the pointer to
# /auth/trouble and that the backend received nothing; accepted requests
# for the exact cms-* set (tests/e2e/hmac_check.py builds it from
# users.json and signs it independently).

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

HC=$E2E_DIR/hmac_check.py
command -v python3 >/dev/null || die "python3 is not installed"

start_backend echo
BE=$(be_url echo)
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
KEY=$WORK/hmac.key
FQ_ALICE='/cms/Role=production/Capability=NULL,/cms/Role=NULL/Capability=NULL'

# auth_yaml CA_PATH KEY: the auth section.
auth_yaml() {
	cat <<EOF
auth:
  ca_path: $1
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  banned: $PKI/banned.txt
  hmac_key: $2
EOF
}

# ------------------------------------------------------------------ helpers
# (Small copies of t_auth.sh's; run.sh would run a shared t_*.sh file.)

dn_of() { awk -F'\t' -v c="$1" '$1 == c { print $2; exit }' "$PKI/dns.txt"; }
be_n() { be_stats echo requests; }

# req CRED PATH [curl args...]: one request; R_CODE, R_BODY.
req() {
	local cred=$1 path=$2; shift 2
	local a=()
	[ "$cred" != - ] && a=(--cert "$PKI/creds/$cred.pem")
	R_CODE=$(gcurl -o "$WORK/r.body" -w '%{http_code}' "${a[@]}" "$@" \
	    "$(px_url)$path" 2>"$WORK/r.err")
	R_BODY=$(cat "$WORK/r.body" 2>/dev/null)
}

got_cms() { python3 "$HC" cms <"$WORK/r.body" 2>&1; }

# check_ok DESC CRED PATH FQANS: 200 with exactly the expected cms-* set.
check_ok() {
	local d=$1 cred=$2 path=$3 fq=$4 n0 f=() v
	n0=$(be_n)
	req "$cred" "$path"
	assert_eq "$d: status 200" 200 "$R_CODE"
	[ "$R_CODE" = 200 ] || return
	assert_eq "$d: backend received it" "$((n0 + 1))" "$(be_n)"
	[ -n "$fq" ] && f=(--fqans "$fq")
	assert_eq "$d: exact cms-* header set" \
	    "$(python3 "$HC" expect --users "$PKI/users.json" --dn "$(dn_of "$cred")" \
	    --key "$KEY" --uri "${path%%\?*}" "${f[@]}" 2>&1)" "$(got_cms)"
	v=$(python3 "$HC" verify "$KEY" <"$WORK/r.body" 2>&1)
	if [ $? -eq 0 ]; then pass "$d: HMAC recomputed independently"
	else fail "$d: HMAC recomputed independently" "$v"; fi
}

# check_deny DESC CRED PATH REASON-ERE: 403, reason, trouble link, nothing
# forwarded.
check_deny() {
	local d=$1 cred=$2 path=$3 re=$4 n0
	n0=$(be_n)
	req "$cred" "$path"
	assert_eq "$d: status 403" 403 "$R_CODE"
	if grep -qiE -- "$re" <<<"$R_BODY"; then pass "$d: reason /$re/"
	else fail "$d: reason /$re/" "body: $(head -c 300 <<<"$R_BODY")"; fi
	assert_contains "$d: body points to /auth/trouble" "$R_BODY" "/auth/trouble"
	assert_eq "$d: backend received nothing" "$n0" "$(be_n)"
}

# ------------------------------------------------------------------ require_fqan, allow_from
routes="  - path: /prod/
    require_fqan: [/cms/Role=production]
    backends: [$BE]
  - path: /anyof/
    require_fqan: [/cms/Role=lcgadmin, /cms/Role=production]
    backends: [$BE]
  - path: /admin/
    require_fqan: [/cms/Role=lcgadmin]
    backends: [$BE]
  - path: /prodlim/
    require_fqan: [/cms/Role=production]
    allow_limited_proxy: true
    backends: [$BE]
  - path: /lan/
    allow_from: [10.0.0.0/8]
    backends: [$BE]
  - path: /lanopt/
    auth: optional
    allow_from: [10.0.0.0/8]
    backends: [$BE]
  - path: /lannone/
    auth: none
    allow_from: [10.0.0.0/8]
    backends: [$BE]
  - path: /lo/
    allow_from: [10.0.0.0/8, 127.0.0.0/8]
    backends: [$BE]"
std_conf "$WORK/policy.yaml" "$routes" "$(auth_yaml "$PKI/certificates" "$KEY")"
start_proxy "$WORK/policy.yaml"

check_ok "voms /prod/" voms /prod/p?x=1 "$FQ_ALICE"
check_ok "voms2 (AC one level up) /prod/" voms2 /prod/p "$FQ_ALICE"
check_ok "voms /anyof/ (one of two FQANs suffices)" voms /anyof/p "$FQ_ALICE"
check_deny "voms /admin/ (FQAN it does not hold)" voms /admin/p "missing required VOMS role"
check_deny "alice /prod/ (no VOMS)" alice /prod/p "missing required VOMS role"
check_deny "proxy /prod/ (RFC proxy without AC)" proxy /prod/p "missing required VOMS role"
for c in voms_untrusted voms_nolsc voms_expired_ac; do
	check_deny "$c /prod/ (untrusted AC grants nothing)" "$c" /prod/p \
	    "missing required VOMS role"
done
check_deny "no certificate /prod/" - /prod/p "client certificate required"
check_deny "revoked /prod/ (verification first)" revoked /prod/p "revoked"
check_deny "proxy_limited /prodlim/ (limited OK, but no VOMS role)" \
    proxy_limited /prodlim/p "missing required VOMS role"

check_deny "alice /lan/ from 127.0.0.1" alice /lan/x "address not allowed"
check_deny "voms /lan/ from 127.0.0.1" voms /lan/x "address not allowed"
check_deny "no certificate /lanopt/ from 127.0.0.1" - /lanopt/x "address not allowed"
check_deny "alice /lanopt/ from 127.0.0.1" alice /lanopt/x "address not allowed"
check_deny "no certificate /lannone/ (auth: none) from 127.0.0.1" - /lannone/x \
    "address not allowed"
check_deny "alice /lannone/ from 127.0.0.1" alice /lannone/x "address not allowed"
check_ok "alice /lo/ (127.0.0.0/8 in the list)" alice /lo/x ""
stop_proxy
assert_eq "policy proxy exits 0" 0 "$?"

# A second proxy whose /lan/ allows the loopback block (and a plain address).
PX_PORT=
routes2="  - path: /lan/
    allow_from: [127.0.0.0/8]
    backends: [$BE]
  - path: /one/
    auth: optional
    allow_from: [127.0.0.1, \"::1\"]
    backends: [$BE]"
std_conf "$WORK/lan.yaml" "$routes2" "$(auth_yaml "$PKI/certificates" "$KEY")"
start_proxy "$WORK/lan.yaml"
check_ok "second proxy: alice /lan/ allowed from 127.0.0.0/8" alice /lan/x ""
check_ok "second proxy: proxy2 /lan/" proxy2 /lan/y ""
req - /one/z
assert_eq "second proxy: anonymous /one/ (127.0.0.1 listed) 200" 200 "$R_CODE"
check_deny "second proxy: allowed address, still no certificate on /lan/" - /lan/x \
    "client certificate required"
stop_proxy

# ------------------------------------------------------------------ CRLs
INT_HASH=$(openssl x509 -hash -noout -in "$PKI/crl/int.pem")
ROOT_HASH=$(openssl x509 -hash -noout -in "$PKI/crl/root.pem")
mkdir -p "$WORK/ca-expcrl" "$WORK/ca-nocrl"
cp "$PKI"/certificates/* "$WORK/ca-expcrl/"
cp "$PKI"/certificates/* "$WORK/ca-nocrl/"
cp "$PKI/crl/int-expired.r0" "$WORK/ca-expcrl/$INT_HASH.r0"
rm -f "$WORK/ca-nocrl/$INT_HASH.r0"
[ -f "$WORK/ca-nocrl/$ROOT_HASH.r0" ] || die "no root CRL $ROOT_HASH.r0 in the PKI"

routes3="  - path: /cert/
    backends: [$BE]
  - path: /opt/
    auth: optional
    backends: [$BE]
  - path: /none/
    auth: none
    backends: [$BE]"
for v in expcrl nocrl; do
	PX_PORT=
	std_conf "$WORK/$v.yaml" "$routes3" "$(auth_yaml "$WORK/ca-$v" "$KEY")"
	start_proxy "$WORK/$v.yaml"
	what="intermediate CRL $([ $v = expcrl ] && echo expired || echo missing)"
	for c in alice proxy2 voms; do
		check_deny "$what: $c /cert/ fails closed" "$c" /cert/x "CRL"
		check_deny "$what: $c /opt/ fails closed" "$c" /opt/x "CRL"
	done
	req alice /none/x
	assert_eq "$what: auth: none still serves alice" 200 "$R_CODE"
	req - /opt/x
	assert_eq "$what: anonymous /opt/ still served" 200 "$R_CODE"
	stop_proxy
done

# ------------------------------------------------------------------ key bytes
# A key with a trailing newline and a space: the raw file is the key.
printf 'a key, not 20 bytes \n' >"$WORK/nl.key"
chmod 0600 "$WORK/nl.key"
printf 'a key, not 20 bytes' >"$WORK/nl-trimmed.key"
PX_PORT=
std_conf "$WORK/nl.yaml" "  - path: /cert/
    backends: [$BE]" "$(auth_yaml "$PKI/certificates" "$WORK/nl.key")"
start_proxy "$WORK/nl.yaml"
req alice /cert/k
assert_eq "newline key: alice 200" 200 "$R_CODE"
v=$(python3 "$HC" verify "$WORK/nl.key" <"$WORK/r.body" 2>&1)
assert_eq "newline key: HMAC over the raw key bytes (newline included)" 0 "$?"
python3 "$HC" verify "$WORK/nl-trimmed.key" <"$WORK/r.body" >/dev/null 2>&1
assert_eq "newline key: the trimmed key does NOT verify" 1 "$?"
stop_proxy

# ------------------------------------------------------------------ key refusals
# refuse DESC KEYFILE: the proxy (and the config test) must refuse it.
refuse() {
	local d=$1 k=$2 rc out
	PX_PORT=
	std_conf "$WORK/refuse.yaml" "  - path: /cert/
    backends: [$BE]" "$(auth_yaml "$PKI/certificates" "$k")"
	timeout 10 "$GF" -c "$WORK/refuse.yaml" >"$WORK/refuse.out" 2>"$WORK/refuse.err"
	rc=$?
	out=$(cat "$WORK/refuse.out" "$WORK/refuse.err")
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
		pass "$d: gridfront refuses to start (exit $rc)"
	else
		fail "$d: gridfront refuses to start" "exit $rc (124: still running after 10 s)" \
		    "$(tail -n 3 <<<"$out")"
	fi
	assert_not_contains "$d: never became ready" "$out" "gridfront: ready"
	if grep -qiE 'hmac' <<<"$out" && grep -qF -- "$k" <<<"$out"; then
		pass "$d: clear message naming hmac and the file"
	else fail "$d: clear message naming hmac and the file" "$(tail -n 3 <<<"$out")"; fi
	timeout 10 "$GF" -t -c "$WORK/refuse.yaml" >"$WORK/refuse.t" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then pass "$d: gridfront -t fails too"
	else fail "$d: gridfront -t fails too" "exit $rc: $(tail -n 2 "$WORK/refuse.t")"; fi
	# Refusing must be clean too (sanitizer builds report leaks at exit).
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
	    "$WORK/refuse.err" "$WORK/refuse.t"; then
		fail "$d: no sanitizer report on the refusal path" \
		    "$(grep -m3 -hE 'ERROR:|runtime error:|#[0-3] ' "$WORK/refuse.err" "$WORK/refuse.t" | tr '\n' ' ')"
	else pass "$d: no sanitizer report on the refusal path"; fi
}
: >"$WORK/empty.key"
chmod 0600 "$WORK/empty.key"
cp "$KEY" "$WORK/world.key"
chmod 0644 "$WORK/world.key"
mkdir -p "$WORK/dir.key"
refuse "missing key file" "$WORK/no-such.key"
refuse "empty key file" "$WORK/empty.key"
refuse "world-readable key file (0644)" "$WORK/world.key"
refuse "key path is a directory" "$WORK/dir.key"

finish
