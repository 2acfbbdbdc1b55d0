#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Grid authentication end to end, table-driven over every credential of
# the test PKI (tests/fixtures/certs/mkcerts.sh): one proxy with the PKI's
# CA directory, vomsdir, CRIC users file, ban list and HMAC key, and the
# routes /cert/ (auth: cert), /opt/ (optional), /none/ (none) and /limited/
# (allow_limited_proxy), all to the echo backend.  For each credential and
# route it checks the status; for a denial the plain-language reason, the
# pointer to /auth/trouble and that the backend received nothing; for an
# accepted request the EXACT set of cms-* headers the backend received,
# compared with the set built independently from users.json by
# hmac_check.py, whose HMAC (PROTOCOL.md, raw key bytes) is also recomputed
# over what was received.  Then identity-header spoofing on authenticated,
# anonymous and auth: none requests, optional and none semantics, and
# several routes on one keep-alive connection.  require_fqan, allow_from,
# CRLs and the key file are in t_auth_policy.sh; the handshake, keep-alive
# and the cost measurement in t_auth_tls.sh; the trouble page in
# t_trouble.sh.

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

HC=$E2E_DIR/hmac_check.py
command -v python3 >/dev/null || die "python3 is not installed"
command -v openssl >/dev/null || die "openssl is not installed"

# The checker itself first: both PROTOCOL.md vectors, to the byte.
out=$(python3 "$HC" vectors 2>&1)
assert_eq "independent HMAC checker matches both PROTOCOL.md test vectors" 0 "$?"
assert_match "... vector 1 (a9299982...)" "$out" 'vector 1: ok a9299982340653b509e7499b50234cb5c8ef8310'
assert_match "... vector 2 (07a466a4..., UTF-8 name)" "$out" 'vector 2: ok 07a466a450b07b2e78529a7a4ae805af6755ef3b'

start_backend echo
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
KEY=$WORK/hmac.key

# bob's second CRIC DN needs a certificate: issue one from the test
# intermediate CA (fresh serial, so the CRL does not list it).
BOBOLD_DN='/DC=org/DC=example/OU=People/CN=Bob Builder (old cert)'
mkbobold() {
	local d=$WORK/bobold
	mkdir -p "$d"
	cat >"$d/ext.cnf" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/key.pem" -subj "$BOBOLD_DN" -out "$d/req.pem" \
	    >"$d/log" 2>&1 &&
	openssl x509 -req -in "$d/req.pem" -CA "$PKI/keys/int.pem" \
	    -CAkey "$PKI/keys/int.key" -set_serial "0x$(openssl rand -hex 12)" \
	    -days 2 -sha256 -extfile "$d/ext.cnf" -out "$d/cert.pem" \
	    >>"$d/log" 2>&1 &&
	cat "$d/cert.pem" "$d/key.pem" "$PKI/keys/int.pem" >"$WORK/bobold.pem"
}
mkbobold || die "cannot issue bob's second-DN certificate: $(cat "$WORK/bobold/log")"

BE=$(be_url echo)
routes="  - path: /cert/
    backends: [$BE]
  - path: /opt/
    auth: optional
    backends: [$BE]
  - path: /none/
    auth: none
    backends: [$BE]
  - path: /limited/
    allow_limited_proxy: true
    backends: [$BE]"
auth="auth:
  ca_path: $PKI/certificates
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  banned: $PKI/banned.txt
  hmac_key: $KEY"
std_conf "$WORK/auth.yaml" "$routes" "$auth"
start_proxy "$WORK/auth.yaml"
U=$(px_url)

# ------------------------------------------------------------------ helpers

# dn_of CRED: the end-entity DN mkcerts.sh computed for CRED (dns.txt).
dn_of() {
	[ "$1" = bobold ] && { printf '%s\n' "$BOBOLD_DN"; return; }
	awk -F'\t' -v c="$1" '$1 == c { print $2; exit }' "$PKI/dns.txt"
}

# cred_file CRED: the PEM curl sends ("-" means no certificate).
cred_file() {
	case $1 in
	bobold) echo "$WORK/bobold.pem" ;;
	*) echo "$PKI/creds/$1.pem" ;;
	esac
}

be_n() { be_stats echo requests; }

# req CRED PATH [curl args...]: one request; R_CODE, R_BODY, R_RC.
req() {
	local cred=$1 path=$2; shift 2
	local a=()
	[ "$cred" != - ] && a=(--cert "$(cred_file "$cred")")
	R_CODE=$(gcurl -o "$WORK/r.body" -w '%{http_code}' "${a[@]}" "$@" \
	    "$U$path" 2>"$WORK/r.err")
	R_RC=$?
	R_BODY=$(cat "$WORK/r.body" 2>/dev/null)
}

# got_cms: the cms-* headers of the last echo report (sorted lines).
got_cms() { python3 "$HC" cms <"$WORK/r.body" 2>&1; }

# exp_cms CRED PATH [FQANS]: what gridfront must send for CRED.
exp_cms() {
	local p=${2%%\?*}
	local f=()
	[ -n "${3:-}" ] && f=(--fqans "$3")
	python3 "$HC" expect --users "$PKI/users.json" --dn "$(dn_of "$1")" \
	    --key "$KEY" --uri "$p" "${f[@]}" 2>&1
}

# check_ok DESC CRED PATH [FQANS] [curl args...]: accepted, backend got
# exactly the expected cms-* set, and the HMAC verifies independently.
check_ok() {
	local d=$1 cred=$2 path=$3 fq=${4:-} n0 exp got v
	shift 3
	[ $# -gt 0 ] && shift
	n0=$(be_n)
	req "$cred" "$path" "$@"
	if [ "$R_CODE" != 200 ]; then
		fail "$d: status 200" "got $R_CODE (curl rc $R_RC) for $cred $path" \
		    "body: $(head -c 200 <<<"$R_BODY")$(head -c 200 "$WORK/r.err")"
		return
	fi
	pass "$d: status 200"
	assert_eq "$d: backend received the request" "$((n0 + 1))" "$(be_n)"
	exp=$(exp_cms "$cred" "$path" "$fq")
	got=$(got_cms)
	assert_eq "$d: exact cms-* header set" "$exp" "$got"
	v=$(python3 "$HC" verify "$KEY" <"$WORK/r.body" 2>&1)
	if [ $? -eq 0 ]; then pass "$d: HMAC recomputed independently"
	else fail "$d: HMAC recomputed independently" "$v"; fi
}

# check_deny DESC CRED PATH REASON-ERE [curl args...]: 403, the reason in
# plain words, a pointer to the trouble page, nothing forwarded.
check_deny() {
	local d=$1 cred=$2 path=$3 re=$4 n0
	shift 4
	n0=$(be_n)
	req "$cred" "$path" "$@"
	assert_eq "$d: status 403" 403 "$R_CODE"
	if grep -qiE -- "$re" <<<"$R_BODY"; then pass "$d: reason /$re/"
	else fail "$d: reason /$re/" "body: $(head -c 300 <<<"$R_BODY")"; fi
	assert_contains "$d: body points to /auth/trouble" "$R_BODY" "/auth/trouble"
	assert_eq "$d: backend received nothing" "$n0" "$(be_n)"
}

# check_anon DESC CRED PATH: optional route, no usable identity.
check_anon() {
	local d=$1 cred=$2 path=$3
	shift 3
	req "$cred" "$path" "$@"
	assert_eq "$d: status 200" 200 "$R_CODE"
	assert_eq "$d: cms-auth-status NONE, no identity, no HMAC" \
	    "cms-auth-status: NONE
cms-request-uri: ${path%%\?*}" "$(got_cms)"
}

# check_pass DESC CRED PATH: auth: none route, no cms-* at all.
check_pass() {
	local d=$1 cred=$2 path=$3
	shift 3
	req "$cred" "$path" "$@"
	assert_eq "$d: status 200" 200 "$R_CODE"
	assert_eq "$d: no cms-* header at all" "" "$(got_cms)"
}

# ------------------------------------------------------------------ table
#
# cred | class | reason (ERE) or FQANs
#   ok      accepted everywhere a certificate is asked for (FQANs if VOMS)
#   vfail   the chain fails verification: 403 on cert and optional routes
#   unreg   valid, not in CRIC: 403 on cert, NONE on optional
#   banned  403 "banned" on cert and optional
#   limited limited proxy: 403 unless allow_limited_proxy
#   indep   independent proxy: never the user's identity
FQ_ALICE='/cms/Role=production/Capability=NULL,/cms/Role=NULL/Capability=NULL'
TABLE="alice|ok|
bob|ok|
bobold|ok|
robot|ok|
utf8|ok|
slash|ok|
specials|ok|
multirdn|ok|
rsauser|ok|
utf8dn|ok|
astral|ok|
proxy|ok|
proxy2|ok|
proxy_robot|ok|
voms|ok|$FQ_ALICE
voms2|ok|$FQ_ALICE
voms_untrusted|ok|
voms_nolsc|ok|
voms_expired_ac|ok|
unregistered|unreg|not registered in CRIC
banned|banned|banned
revoked|vfail|revoked
expired|vfail|expired
notyet|vfail|not yet valid
untrusted|vfail|unknown certificate authority
rogue|vfail|unknown certificate authority|chain|signature
ca_as_user|vfail|CA certificate used as user certificate
proxy_expired|vfail|proxy.*expired
proxy_forged|vfail|unknown certificate authority|chain|signature
proxy_revoked|vfail|revoked
legacy|vfail|legacy.*proxy.*not accepted
proxy_limited|limited|limited proxy not allowed on this route
proxy_independent|indep|independent proxy"

# Every credential the PKI holds is in the table (a new one must be added).
for f in "$PKI"/creds/*.pem; do
	c=$(basename "$f" .pem)
	grep -q "^$c|" <<<"$TABLE" || fail "credential $c is covered by the table"
done

while IFS='|' read -r cred class arg; do
	[ -f "$(cred_file "$cred")" ] || { fail "credential $cred exists"; continue; }
	case $class in
	ok)
		check_ok "$cred /cert/" "$cred" "/cert/a/b?x=1&y=2" "$arg"
		check_ok "$cred /opt/" "$cred" "/opt/c?z" "$arg"
		check_ok "$cred /limited/" "$cred" "/limited/d" "$arg"
		;;
	vfail)
		check_deny "$cred /cert/" "$cred" "/cert/a?x" "$arg"
		check_deny "$cred /opt/ (presented but failed)" "$cred" "/opt/a" "$arg"
		check_deny "$cred /limited/" "$cred" "/limited/a" "$arg"
		;;
	unreg)
		check_deny "$cred /cert/" "$cred" "/cert/a" "$arg"
		check_anon "$cred /opt/ (valid but unregistered: NONE)" "$cred" "/opt/u?q=1"
		;;
	banned)
		check_deny "$cred /cert/" "$cred" "/cert/a" "$arg"
		check_deny "$cred /opt/" "$cred" "/opt/a" "$arg"
		;;
	limited)
		check_deny "$cred /cert/" "$cred" "/cert/a" "$arg"
		check_deny "$cred /opt/" "$cred" "/opt/a" "$arg"
		check_ok "$cred /limited/ (allow_limited_proxy)" "$cred" "/limited/l?q" ""
		;;
	indep)
		check_deny "$cred /cert/" "$cred" "/cert/a" "$arg"
		for p in /opt/i /limited/i; do
			req "$cred" "$p"
			if [ "$R_CODE" = 403 ]; then
				pass "$cred $p: refused"
			else
				assert_not_contains "$cred $p: never gets alice's identity" \
				    "$(got_cms)" "CN=alice"
				assert_not_contains "$cred $p: no identity header" \
				    "$(got_cms)" "cms-authn-dn"
			fi
		done
		;;
	*) fail "table: bad class $class for $cred" ;;
	esac
	# auth: none takes everyone, with no identity at all, except a
	# banned user: PROTOCOL.md bans on every route.
	if [ "$class" = banned ]; then
		check_deny "$cred /none/" "$cred" "/none/n?x=1" "banned"
	else
		check_pass "$cred /none/" "$cred" "/none/n?x=1"
	fi
done <<<"$TABLE"

# bob's two DNs map to one account: same login and roles, each its own DN.
req bob /cert/b
j1=$(got_cms | grep -v -e '^cms-authn-dn:' -e '^cms-authn-hmac:')
req bobold /cert/b
j2=$(got_cms | grep -v -e '^cms-authn-dn:' -e '^cms-authn-hmac:')
assert_eq "bob's second DN: same login, name and roles as the first" "$j1" "$j2"
assert_contains "bob's second DN is sent as CRIC's DN" "$(got_cms)" \
    "cms-authn-dn: $BOBOLD_DN"

# Identities that must not be over-stripped or confused.
req proxy_robot /cert/r
assert_contains "proxy_robot: DN keeps its numeric CN" "$(got_cms)" \
    "cms-authn-dn: /DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=robot/CN=123456"$'\n'
assert_not_contains "proxy_robot: the proxy's CN=1007 is not in the DN" "$(got_cms)" "CN=1007"
assert_not_contains "robot: empty CRIC NAME sends no cms-authn-name" "$(got_cms)" "cms-authn-name"
req proxy2 /cert/r
assert_not_contains "proxy2: no proxy CN in the DN" "$(got_cms)" "CN=1001"
req slash /cert/s
assert_contains "slash: escaped / in a CN value" "$(got_cms)" 'CN=evil\/CN=fake'
for c in voms_untrusted voms_nolsc voms_expired_ac; do
	req "$c" /cert/v
	assert_not_contains "$c: no FQANs from an untrusted AC" "$(got_cms)" "voms-fqans"
done

# ------------------------------------------------------------------ no cert
check_deny "no certificate /cert/" - /cert/a "client certificate required"
check_deny "no certificate /limited/" - /limited/a "client certificate required"
check_anon "no certificate /opt/" - "/opt/anon?q=1"
check_pass "no certificate /none/" - /none/anon
check_pass "alice /none/ (a valid cert is ignored)" alice /none/alice

# ------------------------------------------------------------------ spoofing
# Every client-side spelling of an identity or certificate header, with a
# marker value; a pre-signed HMAC made with the real key over a forged set.
FORGED_DN='/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=admin/CN=1/CN=Forged Admin'
presigned=$(python3 "$HC" sign "$KEY" "cms-authn-dn: $FORGED_DN" \
    "cms-authn-login: admin" "cms-authn-method: X509Cert" \
    "cms-authz-admin: group:reqmgr")
SPOOF=(
	-H "cms-authn-dn: $FORGED_DN"
	-H "CMS-AUTHN-DN: SPOOF-upper"
	-H "Cms-Authn-Login: SPOOF-login"
	-H "cms_authn_dn: SPOOF-underscore"
	-H "cms-authn-login: admin"
	-H "cms-authz-admin: group:reqmgr"
	-H "cms-authn-method: X509Cert"
	-H "cms-authn-hmac: $presigned"
	-H "cms-auth-status: OK"
	-H "cms-request-uri: /SPOOF-uri"
	-H "cms-authn-voms-fqans: /cms/Role=SPOOF/Capability=NULL"
	-H "cms-authn-name: SPOOF-name"
	-H "cms-authn-dn: SPOOF-duplicate"
	-H "SSL_CLIENT_S_DN: SPOOF-ssl-s-dn"
	-H "ssl-client-cert: SPOOF-ssl-cert"
	-H "SSL_CLIENT_VERIFY: SPOOF-ssl-verify"
	-H "X-SSL-Client-Verify: SPOOF-x-ssl-verify"
	-H "X-SSL-Client-DN: SPOOF-x-ssl-dn"
	-H "X-Client-Verify: SPOOF-x-client-verify"
	-H "X-Forwarded-Client-Cert: SPOOF-xfcc"
	-H "X-Forwarded-For: 6.6.6.6"
	-H "Forwarded: for=6.6.6.6;proto=http"
	-H "Via: 1.1 SPOOF-via"
)
SPOOF_NAMES="ssl-client-s-dn ssl-client-cert ssl-client-verify x-ssl-client-verify
x-ssl-client-dn x-client-verify x-forwarded-client-cert forwarded via"

# no_spoof DESC: nothing of the client's identity headers reached the backend.
no_spoof() {
	local d=$1 n all
	assert_not_contains "$d: no SPOOF marker reached the backend" "$R_BODY" "SPOOF"
	assert_not_contains "$d: no forged DN reached the backend" "$R_BODY" "Forged Admin"
	assert_not_contains "$d: no client X-Forwarded-For value" "$R_BODY" "6.6.6.6"
	assert_not_contains "$d: pre-signed HMAC did not survive" "$R_BODY" "$presigned"
	all=$(jq -r '.headers[][0] | ascii_downcase | gsub("_"; "-")' "$WORK/r.body" 2>/dev/null)
	for n in $SPOOF_NAMES; do
		if grep -qx -- "$n" <<<"$all"; then
			fail "$d: client header $n removed"
		else pass "$d: client header $n removed"; fi
	done
	assert_eq "$d: X-Forwarded-For is gridfront's, once" "127.0.0.1" \
	    "$(json_headers "$(cat "$WORK/r.body")" X-Forwarded-For)"
}

for c in alice proxy2 voms utf8 robot; do
	fq=
	[ "$c" = voms ] && fq=$FQ_ALICE
	check_ok "spoof on $c /cert/" "$c" "/cert/spoof?x" "$fq" "${SPOOF[@]}"
	no_spoof "spoof on $c /cert/"
done
check_ok "spoof on alice /opt/" alice "/opt/spoof" "" "${SPOOF[@]}"
no_spoof "spoof on alice /opt/"
check_anon "spoof, anonymous /opt/" - "/opt/spoof?x" "${SPOOF[@]}"
no_spoof "spoof, anonymous /opt/"
check_anon "spoof, unregistered /opt/" unregistered "/opt/spoof" "${SPOOF[@]}"
no_spoof "spoof, unregistered /opt/"
check_pass "spoof, anonymous /none/" - "/none/spoof" "${SPOOF[@]}"
no_spoof "spoof, anonymous /none/"
check_pass "spoof, alice /none/" alice "/none/spoof" "${SPOOF[@]}"
no_spoof "spoof, alice /none/"
n0=$(be_n)
req - /cert/spoof "${SPOOF[@]}"
assert_eq "spoofed identity without a certificate on /cert/ is 403" 403 "$R_CODE"
assert_eq "... and nothing reached the backend" "$n0" "$(be_n)"

# One spelling at a time, so that one refused header cannot hide another.
i=0
while [ $i -lt ${#SPOOF[@]} ]; do
	h=${SPOOF[$((i + 1))]}
	check_ok "single spoof header '${h%%:*}' on alice /cert/" alice /cert/one "" -H "$h"
	no_spoof "single spoof header '${h%%:*}'"
	i=$((i + 2))
done

# ------------------------------------------------------------------ keep-alive
# Several routes on one connection: each request gets its own route's
# decision, with identical signed headers for the same route.
a=(--cert "$(cred_file alice)")
out=$(gcurl "${a[@]}" -w '\n%{num_connects}\n' \
    -o "$WORK/ka1.json" "$U/opt/k" -o "$WORK/ka2.json" "$U/none/k" \
    -o "$WORK/ka3.json" "$U/cert/k" -o "$WORK/ka4.json" "$U/opt/k" \
    -o "$WORK/ka5.json" "$U/none/k" 2>&1)
assert_eq "five routes on one keep-alive connection (one connect)" "1 0 0 0 0" \
    "$(grep -E '^[0-9]+$' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
cp "$WORK/ka1.json" "$WORK/r.body"
assert_eq "keep-alive: /opt/ with alice: signed identity" "$(exp_cms alice /opt/k)" "$(got_cms)"
cp "$WORK/ka2.json" "$WORK/r.body"
assert_eq "keep-alive: /none/ after /opt/: no cms-* at all" "" "$(got_cms)"
cp "$WORK/ka3.json" "$WORK/r.body"
assert_eq "keep-alive: /cert/ after /none/: signed identity" "$(exp_cms alice /cert/k)" "$(got_cms)"
cp "$WORK/ka4.json" "$WORK/r.body"
assert_eq "keep-alive: /opt/ again: identical headers" "$(exp_cms alice /opt/k)" "$(got_cms)"
cp "$WORK/ka5.json" "$WORK/r.body"
assert_eq "keep-alive: /none/ again: no cms-* at all" "" "$(got_cms)"

stop_proxy
assert_eq "proxy exits 0 on SIGTERM" 0 "$?"
finish
