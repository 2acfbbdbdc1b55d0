#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Bearer tokens beside x509 (issue 14), end to end with the real binary
# and the echo backend.  The test makes its own issuers (RSA and EC keys,
# JWKS files, tokens signed by PyJWT or, for hostile shapes, by exact
# bytes: tests/e2e/jwt_mint.py).  Covered: each identity mode (claim,
# cern_person_id, subject_map) with the exact signed cms-* set verified
# independently, each route mode (token, cert_or_token, optional, cert),
# a token beside a certificate, the 401/400/403 answers with their
# WWW-Authenticate, Authorization removed or forwarded, key rotation and a
# removed key without a restart, the size limit to the byte, and the
# hostile list; every refusal also checks that the backend got nothing.

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

PY=python3
/usr/bin/python3 -c 'import jwt' 2>/dev/null && PY=/usr/bin/python3
$PY -c 'import jwt, cryptography' 2>/dev/null ||
    die "python3-jwt and python3-cryptography are needed"
MINT="$PY $E2E_DIR/jwt_mint.py"
HC=$E2E_DIR/hmac_check.py

start_backend echo
BE=$(be_url echo)
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
KEY=$WORK/hmac.key

$MINT key rsa "$WORK/r1.pem"
$MINT key rsa "$WORK/r2.pem"
$MINT key ec "$WORK/e1.pem"
$MINT jwks "$WORK/iam.json" r1="$WORK/r1.pem" e1="$WORK/e1.pem"
$MINT jwks "$WORK/sso.json" r1="$WORK/r1.pem"
echo '{"sub-alice": "alice", "sub-bob": "bob"}' >"$WORK/subjects.json"
IAM=https://iam.test/
SSO=https://sso.test/realms/cern
MAP=https://map.test/
ALICE_DN=$(awk -F'\t' '$1 == "alice" { print $2 }' "$PKI/dns.txt")

ADM_PORT=$(free_port)
write_conf() {	# write_conf FILE MAX_TOKEN
	std_conf "$1" "  - path: /tok
    auth: token
    backends: [$BE]
  - path: /either
    auth: cert_or_token
    backends: [$BE]
  - path: /opt
    auth: optional
    backends: [$BE]
  - path: /cert
    backends: [$BE]
  - path: /fwd
    auth: token
    forward_token: true
    backends: [$BE]
  - path: /scoped
    auth: token
    require_scope: [storage.read:/store]
    require_group: [/cms]
    backends: [$BE]" "limits:
  max_token: $2
  max_header_field: 256k
  max_header_block: 512k
admin:
  address: 127.0.0.1:$ADM_PORT
auth:
  ca_path: $PKI/certificates
  users: $PKI/users.json
  banned: $PKI/banned.txt
  hmac_key: $KEY
  reload_interval: 100ms
  tokens:
    issuers:
      - issuer: $IAM
        jwks: $WORK/iam.json
        audiences: [cmsweb]
      - issuer: $SSO
        jwks: $WORK/sso.json
        audiences: [cmsweb, other]
        identity: {from: cern_person_id}
        authn_method: sso
      - issuer: $MAP
        jwks: $WORK/sso.json
        audiences: [cmsweb]
        identity: {from: subject_map, file: $WORK/subjects.json}"
}
write_conf "$WORK/tok.yaml" 200000
start_proxy "$WORK/tok.yaml"

be_n() { be_stats echo requests; }

# req PATH TOKEN [curl args]: R_CODE, R_BODY, R_WWW (WWW-Authenticate).
req() {
	local path=$1 tok=$2; shift 2
	local a=()
	[ -n "$tok" ] && a=(-H "Authorization: Bearer $tok")
	R_CODE=$(gcurl -o "$WORK/r.body" -D "$WORK/r.head" -w '%{http_code}' \
	    "${a[@]}" "$@" "$(px_url)$path" 2>"$WORK/r.err")
	R_BODY=$(cat "$WORK/r.body" 2>/dev/null)
	R_WWW=$(tr -d '\r' <"$WORK/r.head" |
	    sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: //p')
}

# refused DESC CODE DESCRIPTION PATH TOKEN [curl args]: the answer, its
# WWW-Authenticate (error_description when DESCRIPTION is given), and
# nothing reached the backend.
refused() {
	local d=$1 code=$2 desc=$3 path=$4 tok=$5 n0; shift 5
	n0=$(be_n)
	req "$path" "$tok" "$@"
	assert_eq "$d: status $code" "$code" "$R_CODE"
	if [ -n "$desc" ]; then
		assert_contains "$d: names the check" "$R_WWW" \
		    "error_description=\"$desc\""
	fi
	case $code in
	401|400) assert_contains "$d: Bearer challenge" "$R_WWW" \
	    'Bearer realm="' ;;
	esac
	[ -n "$tok" ] && assert_not_contains "$d: token not echoed" \
	    "$R_BODY$R_WWW" "${tok:0:40}"
	assert_eq "$d: backend received nothing" "$n0" "$(be_n)"
}

# accepted DESC PATH TOKEN LOGIN [curl args]: 200, the backend saw LOGIN,
# a valid HMAC, no Authorization (unless PATH is /fwd).
accepted() {
	local d=$1 path=$2 tok=$3 login=$4 v; shift 4
	req "$path" "$tok" "$@"
	assert_eq "$d: status 200" 200 "$R_CODE"
	[ "$R_CODE" = 200 ] || { note "$R_BODY"; return; }
	assert_eq "$d: login" "$login" \
	    "$(json_headers "$R_BODY" cms-authn-login)"
	v=$(python3 "$HC" verify "$KEY" <"$WORK/r.body" 2>&1)
	if [ $? -eq 0 ]; then pass "$d: HMAC recomputed independently"
	else fail "$d: HMAC recomputed independently" "$v"; fi
}

# ------------------------------------------------------------ identities

T=$($MINT mint "$WORK/r1.pem" r1 '{"iss":"'$IAM'","sub":"iam-1",
    "aud":"cmsweb","exp":"+600","iat":"+0",
    "preferred_username":"alice","scope":"storage.read:/ openid",
    "wlcg.groups":["/cms","/cms/uscms"]}')
accepted "claim identity, RS256" /tok "$T" alice
assert_eq "method is oauth" oauth "$(json_headers "$R_BODY" cms-authn-method)"
assert_eq "DN is alice's CRIC DN" "$ALICE_DN" \
    "$(json_headers "$R_BODY" cms-authn-dn)"
assert_eq "token issuer signed" "$IAM" \
    "$(json_headers "$R_BODY" cms-authn-token-issuer)"
assert_eq "token subject signed" iam-1 \
    "$(json_headers "$R_BODY" cms-authn-token-subject)"
assert_eq "token groups joined" "/cms,/cms/uscms" \
    "$(json_headers "$R_BODY" cms-authn-token-groups)"
assert_eq "no cms-authz-token-*" "" \
    "$(jq -r '.headers[][0]' <<<"$R_BODY" | grep -i '^cms-authz-token')"
assert_eq "Authorization removed" "" \
    "$(json_headers "$R_BODY" authorization)"
assert_not_contains "access log has no token bytes" \
    "$(cat "$PX_OUT" 2>/dev/null)" "${T:0:60}"

TE=$($MINT mint "$WORK/e1.pem" e1 '{"iss":"'$IAM'","sub":"iam-2",
    "aud":["x","cmsweb"],"exp":"+600","preferred_username":"bob"}')
accepted "claim identity, ES256, aud array" /tok "$TE" bob

TS=$($MINT mint "$WORK/r1.pem" r1 '{"iss":"'$SSO'","sub":"sso-1",
    "aud":"other","exp":"+600","cern_person_id":100001}')
accepted "cern_person_id identity" /tok "$TS" alice
assert_eq "authn_method per issuer" sso \
    "$(json_headers "$R_BODY" cms-authn-method)"

TM=$($MINT mint "$WORK/r1.pem" r1 '{"iss":"'$MAP'","sub":"sub-bob",
    "aud":"cmsweb","exp":"+600"}')
accepted "subject_map identity" /opt "$TM" bob

TU=$($MINT mint "$WORK/r1.pem" r1 '{"iss":"'$IAM'","sub":"x",
    "aud":"cmsweb","exp":"+600","preferred_username":"nobody"}')
refused "valid token, not in CRIC" 403 "" /tok "$TU"
assert_contains "says not linked" "$R_BODY" "not linked to a CMS account"
req /opt "$TU"
assert_eq "optional: unknown user is anonymous" NONE \
    "$(json_headers "$R_BODY" cms-auth-status)"

# ------------------------------------------------------------ route modes

refused "no credential on token route" 401 "" /tok ""
assert_eq "bare challenge has no error" "" \
    "$(grep -o 'error=' <<<"$R_WWW")"
refused "no credential on cert_or_token" 401 "" /either ""
accepted "cert_or_token with a certificate" /either "" alice \
    --cert "$PKI/creds/alice.pem"
accepted "cert_or_token: the token wins over a certificate" /either "$TE" \
    bob --cert "$PKI/creds/alice.pem"
TBAD=$($MINT mint "$WORK/r2.pem" r1 '{"iss":"'$IAM'","sub":"s",
    "aud":"cmsweb","exp":"+600","preferred_username":"alice"}')
refused "bad token beside a good certificate" 401 "bad signature" \
    /either "$TBAD" --cert "$PKI/creds/alice.pem"
refused "bad token on optional" 401 "bad signature" /opt "$TBAD"
req /cert "$TBAD" --cert "$PKI/creds/alice.pem"
assert_eq "cert route ignores the token" 200 "$R_CODE"
assert_eq "cert route forwards Authorization untouched" "Bearer $TBAD" \
    "$(json_headers "$R_BODY" authorization)"
accepted "forward_token" /fwd "$T" alice
assert_eq "forward_token keeps Authorization" "Bearer $T" \
    "$(json_headers "$R_BODY" authorization)"
req /tok "$T" -H "scope: admin" -H "client-id: x" -H "client-host: y"
assert_eq "client scope/client-id/client-host stripped" "" \
    "$(json_headers "$R_BODY" scope)$(json_headers "$R_BODY" client-id)$(json_headers "$R_BODY" client-host)"

refused "scope missing" 403 "" /scoped "$TE"
assert_contains "insufficient_scope" "$R_WWW" 'error="insufficient_scope"'
accepted "scope and group present" /scoped "$T" alice

# ------------------------------------------------------------ checks

mintc() { $MINT mint "$WORK/r1.pem" "${2:-r1}" "$1"; }
refused "expired" 401 expired /tok "$(mintc '{"iss":"'$IAM'","sub":"s",
    "aud":"cmsweb","exp":"-120","preferred_username":"alice"}')"
refused "not yet valid" 401 "not yet valid" /tok "$(mintc '{"iss":"'$IAM'",
    "sub":"s","aud":"cmsweb","exp":"+600","nbf":"+300"}')"
refused "wrong audience" 401 "wrong audience" /tok "$(mintc '{"iss":"'$IAM'",
    "sub":"s","aud":"CMSWEB","exp":"+600"}')"
refused "unknown issuer" 401 "unknown issuer" /tok "$(mintc '{"iss":
    "https://iam.test","sub":"s","aud":"cmsweb","exp":"+600"}')"
refused "unknown key" 401 "unknown key" /tok "$(mintc '{"iss":"'$IAM'",
    "sub":"s","aud":"cmsweb","exp":"+600"}' r9)"
refused "missing subject" 401 "missing subject" /tok "$(mintc '{"iss":
    "'$IAM'","aud":"cmsweb","exp":"+600"}')"

raw "GET /tok HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer $T\r\nAuthorization: Bearer $T\r\nConnection: close\r\n\r\n"
assert_eq "two Authorization headers: 400" 400 "$(raw_status)"
assert_contains "invalid_request" "$(raw_header www-authenticate)" \
    'error="invalid_request"'
refused "malformed bearer credential" 400 "malformed Authorization header" \
    /tok "a b"

# ------------------------------------------------------------ hostile

HS=$($MINT raw "hs:$WORK/r1.pem" '{"alg":"HS256","kid":"r1"}' \
    '{"iss":"'$IAM'","sub":"s","aud":"cmsweb","exp":__EXP__}')
refused "alg confusion (HS256 keyed with the RSA public key)" 401 \
    "unsupported algorithm" /tok "$HS"
NONE=$($MINT raw none '{"alg":"none","kid":"r1"}' \
    '{"iss":"'$IAM'","sub":"s","aud":"cmsweb","exp":__EXP__}')
refused "alg none, empty signature" 401 "malformed token" /tok "$NONE"
refused "alg none, some signature" 401 "unsupported algorithm" /tok \
    "${NONE}AAAA"
refused "padded base64 signature" 401 "bad base64url" /tok "$T=="
# '=' inside the credential is not a b64token (RFC 6750 2.1): 400.
PADP=$(sed 's/\.\([^.]*\)\./.\1=./' <<<"$T")
refused "padded base64 payload" 400 "malformed Authorization header" \
    /tok "$PADP"
rawt() { $MINT raw "$WORK/r1.pem" '{"alg":"RS256","kid":"r1"}' "$1"; }
refused "duplicate claim keys (validly signed)" 401 "bad JSON" /tok \
    "$(rawt '{"iss":"'$IAM'","sub":"s","sub":"admin","aud":"cmsweb","exp":__EXP__}')"
refused "duplicate header keys" 401 "bad JSON" /tok "$($MINT raw \
    "$WORK/r1.pem" '{"alg":"RS256","alg":"none","kid":"r1"}' \
    '{"iss":"'$IAM'","sub":"s","aud":"cmsweb","exp":__EXP__}')"
refused "huge exp" 401 "bad JSON" /tok \
    "$(rawt '{"iss":"'$IAM'","sub":"s","aud":"cmsweb","exp":99999999999999999999999}')"
refused "exp past 2^53" 401 "bad time claim" /tok \
    "$(rawt '{"iss":"'$IAM'","sub":"s","aud":"cmsweb","exp":9007199254740993}')"
refused "exp as a string" 401 "bad time claim" /tok \
    "$(rawt '{"iss":"'$IAM'","sub":"s","aud":"cmsweb","exp":"__EXP__"}')"
refused "exp as a float" 401 "bad time claim" /tok \
    "$(rawt '{"iss":"'$IAM'","sub":"s","aud":"cmsweb","exp":__EXP__.5}')"
BOMB=$(printf '[%.0s' $(seq 1 2000))$(printf ']%.0s' $(seq 1 2000))
refused "nested JSON bomb" 401 "bad JSON" /tok \
    "$(rawt '{"iss":"'$IAM'","sub":"s","aud":"cmsweb","exp":__EXP__,"x":'"$BOMB"'}')"
refused "kid with path characters" 401 "unknown key" /tok "$(mintc \
    '{"iss":"'$IAM'","sub":"s","aud":"cmsweb","exp":"+600"}' ../../../etc/passwd)"
AUD=$($PY -c 'import json; print(json.dumps(["a%d" % i for i in range(9999)] + ["cmsweb"]))')
refused "aud array with 10,000 entries" 401 "wrong audience" /tok \
    "$($MINT mint "$WORK/r1.pem" r1 '{"iss":"'$IAM'","sub":"s","exp":"+600","aud":'"$AUD"'}')"

# ------------------------------------------------------------ trouble page

TT=$($MINT mint "$WORK/r1.pem" r1 '{"iss":"'$IAM'","sub":"<b>x</b>",
    "aud":"cmsweb","exp":"-120","name":"\"q\" & <script>"}')
SIG=${TT##*.}
req /auth/trouble "$TT"
assert_eq "trouble page with a token: 200" 200 "$R_CODE"
assert_contains "trouble: says which check failed" "$R_BODY" expired
assert_contains "trouble: claims shown, HTML-escaped" "$R_BODY" \
    '&lt;script&gt;'
assert_not_contains "trouble: no raw markup from claims" "$R_BODY" \
    '<script>'
assert_not_contains "trouble: never the signature" "$R_BODY" "${SIG:0:30}"
req /auth/trouble "$TT" -H 'Accept: application/json'
assert_eq "trouble JSON: result" expired "$(jq -r .token.result <<<"$R_BODY")"
assert_eq "trouble JSON: claims kept as data" '"q" & <script>' \
    "$(jq -r .token.claims.name <<<"$R_BODY")"
assert_eq "trouble JSON: header kid" r1 \
    "$(jq -r .token.header.kid <<<"$R_BODY")"
assert_not_contains "trouble JSON: never the signature" "$R_BODY" \
    "${SIG:0:30}"
req /auth/trouble "$T" -H 'Accept: application/json'
assert_eq "trouble JSON: a good token is OK" OK \
    "$(jq -r .token.result <<<"$R_BODY")"

# ------------------------------------------------------------ rotation

accepted "r1 token before rotation (cached)" /tok "$T" alice
$MINT jwks "$WORK/iam.json" r1="$WORK/r1.pem" r2="$WORK/r2.pem" \
    e1="$WORK/e1.pem"
T2=$($MINT mint "$WORK/r2.pem" r2 '{"iss":"'$IAM'","sub":"s2",
    "aud":"cmsweb","exp":"+600","preferred_username":"alice"}')
wait_until 5 eval '[ "$(gcurl -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $T2" "$(px_url)/tok")" = 200 ]'
accepted "new kid picked up without restart" /tok "$T2" alice
$MINT jwks "$WORK/iam.json" r2="$WORK/r2.pem"
wait_until 5 eval '[ "$(gcurl -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $T" "$(px_url)/tok")" = 401 ]'
refused "removed key: its cached token stops working" 401 "unknown key" \
    /tok "$T"
echo '{"keys": [' >"$WORK/iam.json"
sleep 0.5
accepted "half-written key set keeps the previous one" /tok "$T2" alice
assert_contains "refusal logged" "$(cat "$PX_LOG")" "key set refused"

M=$(curl -s --max-time 5 "http://127.0.0.1:$ADM_PORT/metrics")
assert_match "metrics: cache hits counted" "$M" \
    'gridfront_token_cache_hits_total [1-9]'
assert_match "metrics: key set age per issuer" "$M" \
    'gridfront_token_keys_age_seconds\{issuer="https://iam.test/"\} [0-9]+'
assert_match "metrics: refused key set counted" "$M" \
    'gridfront_token_keys_reloads_total\{issuer="https://iam.test/",result="failed"\} [1-9]'
assert_match "metrics: failed check is the deny reason" "$M" \
    'gridfront_auth_denied_total\{[^}]*reason="expired"\} 1'
if command -v promtool >/dev/null; then
	v=$(promtool check metrics <<<"$M" 2>&1)
	if [ $? -eq 0 ]; then pass "promtool accepts /metrics"
	else fail "promtool accepts /metrics" "$v"; fi
fi

# SIGHUP with a new issuer in the config: its tokens work without a restart
# (a reload builds new token state; a broken key set would refuse it).
$MINT jwks "$WORK/iam.json" r2="$WORK/r2.pem"
$MINT key ec "$WORK/n1.pem"
$MINT jwks "$WORK/new.json" n1="$WORK/n1.pem"
sed -i "s|^    issuers:|    issuers:\n      - issuer: https://new.test/\n        jwks: $WORK/new.json\n        audiences: [cmsweb]|" \
    "$WORK/tok.yaml"
TN=$($MINT mint "$WORK/n1.pem" n1 '{"iss":"https://new.test/","sub":"n",
    "aud":"cmsweb","exp":"+600","preferred_username":"bob"}')
refused "new issuer before the reload" 401 "unknown issuer" /tok "$TN"
kill -HUP "$PX_PID"
wait_until 10 eval '[ "$(gcurl -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $TN" "$(px_url)/tok")" = 200 ]'
accepted "new issuer after SIGHUP" /tok "$TN" bob
stop_proxy
assert_contains "access log names issuer and subject" "$(cat "$PX_OUT")" \
    '[token: "https://iam.test/" "iam-1"]'

# ------------------------------------------------------------ size limit

$MINT jwks "$WORK/iam.json" r1="$WORK/r1.pem"
write_conf "$WORK/small.yaml" 2000
start_proxy "$WORK/small.yaml"
TX=$($MINT pad "$WORK/r1.pem" r1 '{"iss":"'$IAM'","sub":"s","aud":"cmsweb",
    "exp":"+600","preferred_username":"alice"}' 2000)
assert_eq "minted a token of exactly 2000 bytes" 2000 "${#TX}"
accepted "token of exactly limits.max_token" /tok "$TX" alice
refused "one byte over limits.max_token" 400 "token too large" /tok "${TX}A"
stop_proxy

finish
