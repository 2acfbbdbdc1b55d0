#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# CA namespaces and CRIC DN order, end to end (issue 17, item 3 and the
# trouble-page ban trap of item 4).  Three extra CAs join a private copy
# of the test CA directory:
#  - "other": its .namespaces allows only /DC=org/DC=other/..., its
#    .signing_policy (disagreeing) allows CERN's namespace: .namespaces
#    wins, so alice's exact CERN DN issued by it gets 403 "issuer CA is
#    not allowed to sign this DN" (also on /auth/trouble), while carol
#    (/DC=org/DC=other/CN=carol) verifies;
#  - "eacl": only a .signing_policy (/DC=org/DC=eacl/*): alice refused,
#    dave verifies;
#  - "bare": no policy file: allowed under enforce (the default), refused
#    under require.  It also issues alice's RDNs reversed and rotated.
# The test PKI's own CAs carry policy files, so alice still gets in;
# namespaces: ignore is the old behaviour (alice from "other" is alice);
# dn_match: exact (default) refuses the reordered DNs, any_order maps them
# to alice; with a ban on alice's CRIC DN the trouble page says banned.

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || die "openssl is not installed"
command -v python3 >/dev/null || die "python3 is not installed"

start_backend echo
BE=$(be_url echo)
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
CA=$WORK/certificates
cp -r "$PKI/certificates" "$CA"
ALICE_DN=$(awk -F'\t' '$1 == "alice" { print $2; exit }' "$PKI/dns.txt")
[ -n "$ALICE_DN" ] || die "no alice DN in $PKI/dns.txt"
DENIED="issuer CA is not allowed to sign this DN"

# mkca NAME DN: a self-signed CA with an empty CRL, installed in $CA.
mkca() {
	local n=$1 dn=$2 d=$WORK/ca-$1 h
	mkdir -p "$d/new"
	: >"$d/index.txt"
	echo 1000 >"$d/crlnumber"
	cat >"$d/ca.cnf" <<EOF
[ca]
default_ca = c
[c]
dir = $d
database = \$dir/index.txt
new_certs_dir = \$dir/new
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
crlnumber = \$dir/crlnumber
default_md = sha256
default_crl_days = 30
EOF
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$d/ca.key" -subj "$dn" -days 30 -out "$d/ca.pem" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" >"$d/log" 2>&1 &&
	openssl ca -config "$d/ca.cnf" -gencrl -out "$d/crl.pem" \
	    >>"$d/log" 2>&1 || return 1
	h=$(openssl x509 -hash -noout -in "$d/ca.pem")
	cp "$d/ca.pem" "$CA/$h.0"
	cp "$d/crl.pem" "$CA/$h.r0"
	echo "$h" >"$d/hash"
}

# issue CA CRED DN: a user certificate from CA, as $WORK/CRED.pem.
issue() {
	local ca=$WORK/ca-$1 n=$2 dn=$3 d=$WORK/u-$2
	mkdir -p "$d"
	cat >"$d/ext.cnf" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
EOF
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/key.pem" -subj "$dn" -out "$d/req.pem" \
	    >"$d/log" 2>&1 &&
	openssl x509 -req -in "$d/req.pem" -CA "$ca/ca.pem" \
	    -CAkey "$ca/ca.key" -set_serial "0x$(openssl rand -hex 12)" \
	    -days 2 -sha256 -extfile "$d/ext.cnf" -out "$d/cert.pem" \
	    >>"$d/log" 2>&1 &&
	cat "$d/cert.pem" "$d/key.pem" >"$WORK/$n.pem"
}

OTHER_DN="/DC=org/DC=other/CN=Other Test CA"
EACL_DN="/DC=org/DC=eacl/CN=EACL Test CA"
mkca other "$OTHER_DN" || die "cannot make CA other: $(cat "$WORK/ca-other/log")"
mkca eacl "$EACL_DN" || die "cannot make CA eacl: $(cat "$WORK/ca-eacl/log")"
mkca bare "/DC=org/DC=bare/CN=Bare Test CA" || die "cannot make CA bare"
H_OTHER=$(cat "$WORK/ca-other/hash")
H_EACL=$(cat "$WORK/ca-eacl/hash")
cat >"$CA/$H_OTHER.namespaces" <<EOF
#NAMESPACES-VERSION: 1.0
# The other CA signs /DC=org/DC=other/... only.
TO Issuer "$OTHER_DN" \\
  PERMIT Subject "/DC=org/DC=other/.*"
TO Issuer "$OTHER_DN" DENY Subject "/DC=org/DC=other/CN=root"
EOF
cat >"$CA/$H_OTHER.signing_policy" <<EOF
# Disagrees with the .namespaces next to it, which wins.
access_id_CA X509 '$OTHER_DN'
pos_rights globus CA:sign
cond_subjects globus '"/DC=ch/DC=cern/*"'
EOF
cat >"$CA/$H_EACL.signing_policy" <<EOF
access_id_CA X509 '$EACL_DN'
pos_rights globus CA:sign
cond_subjects globus '"/DC=org/DC=eacl/*" "/DC=org/DC=eacl2/*"'
EOF

# Alice's DN reversed and rotated (RDN order), from slash form.
REV_DN=$(tr '/' '\n' <<<"${ALICE_DN#/}" | tac | sed 's|^|/|' | tr -d '\n')
ROT_DN=$(tr '/' '\n' <<<"${ALICE_DN#/}" | sed '1{h;d};${G}' | sed 's|^|/|' | tr -d '\n')
[ "$REV_DN" != "$ALICE_DN" ] && [ "$ROT_DN" != "$ALICE_DN" ] ||
    die "cannot reorder alice's DN"
issue other alice_other "$ALICE_DN" || die "cannot issue alice_other"
issue other carol "/DC=org/DC=other/CN=carol" || die "cannot issue carol"
issue other root_other "/DC=org/DC=other/CN=root" || die "cannot issue root_other"
issue eacl alice_eacl "$ALICE_DN" || die "cannot issue alice_eacl"
issue eacl dave "/DC=org/DC=eacl/CN=dave" || die "cannot issue dave"
issue bare alice_bare "$ALICE_DN" || die "cannot issue alice_bare"
issue bare alice_rev "$REV_DN" || die "cannot issue alice_rev"
issue bare alice_rot "$ROT_DN" || die "cannot issue alice_rot"

cp "$PKI/banned.txt" "$WORK/banned.txt"

# conf FILE [AUTH-LINES]: /cert/ and /opt/ routes, the private CA dir.
conf() {
	PX_PORT=
	std_conf "$1" "  - path: /cert/
    backends: [$BE]
  - path: /opt/
    auth: optional
    backends: [$BE]
  - path: /
    backends: [$BE]" "auth:
  ca_path: $CA
  users: $PKI/users.json
  banned: $WORK/banned.txt
  hmac_key: $WORK/hmac.key
  reload_interval: 200ms
${2:-}"
	U=$(px_url)
}

cred_path() {
	case $1 in
	alice_*|carol|root_other|dave) echo "$WORK/$1.pem" ;;
	*) echo "$PKI/creds/$1.pem" ;;
	esac
}

# req CRED PATH [curl args]: R_CODE, R_BODY.
req() {
	R_CODE=$(gcurl -o "$WORK/r.body" -w '%{http_code}' \
	    --cert "$(cred_path "$1")" "${@:3}" "$U$2" 2>"$WORK/r.err")
	R_BODY=$(cat "$WORK/r.body" 2>/dev/null)
}

# login_is DESC CRED LOGIN: 200 on /cert/ with that cms-authn-login.
login_is() {
	req "$2" /cert/x
	assert_eq "$1: status 200" 200 "$R_CODE"
	assert_contains "$1: cms-authn-login $3" "$R_BODY" "\"cms-authn-login\",\"$3\""
}

# deny_is DESC CRED REASON: 403 on /cert/ with REASON in the body.
deny_is() {
	req "$2" /cert/x
	assert_eq "$1: status 403" 403 "$R_CODE"
	assert_contains "$1: says '$3'" "$R_BODY" "$3"
}

# trouble CRED: the JSON trouble page's "verification" and "banned".
trouble() {
	req "$1" /auth/trouble -H 'Accept: application/json'
	python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["verification"], o["detail"], o["banned"])' \
	    <"$WORK/r.body" 2>&1
}

# ------------------------------------------------------------ enforce
conf "$WORK/enforce.yaml"
start_proxy "$WORK/enforce.yaml"
login_is "enforce: alice from the namespaced test CA" alice alice
login_is "enforce: alice's VOMS proxy (root -> int -> alice -> proxies)" voms alice
deny_is "enforce: alice's DN from CA 'other' (restricted to /DC=org/DC=other)" \
    alice_other "$DENIED"
assert_contains "enforce: the 403 points to the trouble page" \
    "$R_BODY" "/auth/trouble"
t=$(trouble alice_other)
assert_contains "enforce: /auth/trouble shows the namespace refusal" "$t" "$DENIED"
assert_contains "enforce: /auth/trouble: .namespaces, not the agreeing .signing_policy, decided" \
    "$t" ".namespaces"
req alice_other /auth/trouble
assert_contains "enforce: HTML trouble page shows it too" "$R_BODY" "$DENIED"
deny_is "enforce: carol from 'other' verifies (then: not in CRIC)" carol \
    "not registered in CRIC"
assert_contains "enforce: carol's trouble page says OK" "$(trouble carol)" "OK"
deny_is "enforce: DENY rule beats the PERMIT .* it is under" root_other "$DENIED"
deny_is "enforce: alice's DN from the .signing_policy-only CA" alice_eacl "$DENIED"
assert_contains "enforce: EACL refusal names cond_subjects" "$(trouble alice_eacl)" \
    "cond_subjects"
deny_is "enforce: dave from the EACL CA verifies (then: not in CRIC)" dave \
    "not registered in CRIC"
login_is "enforce: a CA without a policy file is not checked" alice_bare alice
req alice_other /opt/x
assert_eq "enforce: refused also on an optional route (presented, failed)" 403 "$R_CODE"
deny_is "dn_match exact (default): alice's RDNs reversed are not alice" \
    alice_rev "not registered in CRIC"
deny_is "dn_match exact (default): alice's RDNs rotated are not alice" \
    alice_rot "not registered in CRIC"

# A policy file that does not parse refuses the reload, as a bad CRL does.
printf 'TO Issuer "%s" PERMIT Subjekt "/.*"\n' "$OTHER_DN" \
    >"$CA/$H_OTHER.namespaces.new"
mv "$CA/$H_OTHER.namespaces.new" "$CA/$H_OTHER.namespaces"
if wait_until 5 grep -q "namespace policy refused: $H_OTHER.namespaces:1:" "$PX_LOG"; then
	pass "broken .namespaces: reload refused with file:line in the log"
else
	fail "broken .namespaces: reload refused with file:line in the log" \
	    "$(tail -n 5 "$PX_LOG")"
fi
deny_is "broken .namespaces: the old policy stays in force" alice_other "$DENIED"
login_is "broken .namespaces: alice still served" alice alice
stop_proxy
assert_eq "enforce proxy exits 0" 0 "$?"

# A broken file at start-up stops the proxy with the reason.
"$GF" -c "$WORK/enforce.yaml" >"$WORK/broken.out" 2>&1 &
bpid=$!
PIDS+=("$bpid")
if wait_until 10 eval "! alive $bpid"; then
	wait "$bpid"
	assert_ne "a broken policy file at start-up: gridfront refuses to start" 0 "$?"
else
	fail "a broken policy file at start-up: gridfront refuses to start" \
	    "still running after 10 s"
	kill -KILL "$bpid" 2>/dev/null
	wait "$bpid" 2>/dev/null
fi
assert_contains "... and says which file and line" "$(cat "$WORK/broken.out")" \
    "$H_OTHER.namespaces:1:"
cat >"$CA/$H_OTHER.namespaces" <<EOF
TO Issuer "$OTHER_DN" PERMIT Subject "/DC=org/DC=other/.*"
EOF

# ------------------------------------------------------------ require
conf "$WORK/require.yaml" "  namespaces: require"
start_proxy "$WORK/require.yaml"
login_is "require: alice from the test CA (root and int have files)" alice alice
deny_is "require: a CA without a policy file is refused" alice_bare "$DENIED"
assert_contains "require: the trouble page says why" "$(trouble alice_bare)" \
    "no .namespaces or .signing_policy file"
deny_is "require: dave from the EACL CA still verifies" dave "not registered in CRIC"
stop_proxy

# ------------------------------------------------------------ ignore
conf "$WORK/ignore.yaml" "  namespaces: ignore"
start_proxy "$WORK/ignore.yaml"
login_is "ignore (old behaviour): alice's DN from CA 'other' is alice" \
    alice_other alice
login_is "ignore: alice" alice alice
stop_proxy

# ------------------------------------------------------------ any_order
conf "$WORK/anyorder.yaml" "  dn_match: any_order"
start_proxy "$WORK/anyorder.yaml"
login_is "dn_match any_order: reversed RDNs map to alice" alice_rev alice
assert_contains "... and the signed DN is CRIC's" "$R_BODY" "\"cms-authn-dn\",\"$ALICE_DN\""
login_is "dn_match any_order: rotated RDNs map to alice" alice_rot alice
assert_contains "dn_match any_order: trouble page not banned before" \
    "$(trouble alice_rev)" "OK None False"
# Ban alice by her CRIC DN: requests and the trouble page agree.
printf 'dn: %s\n' "$ALICE_DN" >>"$WORK/banned.txt"
if wait_until 5 eval 'req alice_rev /cert/x; [ "$R_CODE" = 403 ]'; then
	pass "ban on the CRIC DN bites the reordered certificate"
else
	fail "ban on the CRIC DN bites the reordered certificate" "got $R_CODE"
fi
assert_contains "... with reason banned" "$R_BODY" "banned"
assert_contains "trouble page checks the ban against the CRIC DN too" \
    "$(trouble alice_rev)" "OK None True"
stop_proxy

finish
