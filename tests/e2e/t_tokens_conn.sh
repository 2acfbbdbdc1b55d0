#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Bearer tokens on one keep-alive connection (issue 14): gridfront keeps a
# per-connection memo of the last token and reuses its identity while the
# same bytes come again.  This checks that the memo never outlives what it
# was made under: a second token on the same connection gets its own
# identity (and the first one its own again), a token that expires
# mid-connection is refused on the next request, a ban, a users-map change
# and a removed key reach the open connection at once.  Every request of a
# step goes over ONE connection (tests/e2e/ka_client.py), so the memo is
# what answers it.

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

PY=python3
/usr/bin/python3 -c 'import jwt' 2>/dev/null && PY=/usr/bin/python3
$PY -c 'import jwt, cryptography' 2>/dev/null ||
    die "python3-jwt and python3-cryptography are needed"
MINT="$PY $E2E_DIR/jwt_mint.py"
KA="python3 $E2E_DIR/ka_client.py"

start_backend echo
BE=$(be_url echo)
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
cp "$PKI/banned.txt" "$WORK/banned.txt"
cp "$PKI/users.json" "$WORK/users.json"

$MINT key rsa "$WORK/r1.pem"
$MINT key rsa "$WORK/r2.pem"
$MINT jwks "$WORK/iam.json" r1="$WORK/r1.pem" r2="$WORK/r2.pem"
IAM=https://iam.test/
ALICE_DN=$(awk -F'\t' '$1 == "alice" { print $2 }' "$PKI/dns.txt")

std_conf "$WORK/conn.yaml" "  - path: /tok
    auth: token
    backends: [$BE]" "auth:
  ca_path: $PKI/certificates
  users: $WORK/users.json
  banned: $WORK/banned.txt
  hmac_key: $WORK/hmac.key
  reload_interval: 100ms
  tokens:
    leeway: 1s
    issuers:
      - issuer: $IAM
        jwks: $WORK/iam.json
        audiences: [cmsweb]"
start_proxy "$WORK/conn.yaml"

# tok KID USER SUB [EXP]: a token for USER (preferred_username).
tok() {
	$MINT mint "$WORK/$1.pem" "$1" '{"iss":"'$IAM'","sub":"'$3'",
	    "aud":"cmsweb","exp":"'${4:-+600}'","preferred_username":"'$2'"}'
}
# ka STEP...: the answers of one connection, one line each.
ka() { timeout 60 $KA 127.0.0.1 "$PX_PORT" /tok "$@" 2>"$WORK/ka.err"; }

TA=$(tok r1 alice sub-a)
TB=$(tok r1 bob sub-b)

# ------------------------------------------------------------ identities

out=$(ka 0:"$TA" 0:"$TA" 0:"$TB" 0:"$TA" 0:-)
assert_eq "same token twice, another, the first again, none" \
    "200 alice sub-a
200 alice sub-a
200 bob sub-b
200 alice sub-a
401 - -" "$out"
TBAD=$($MINT mint "$WORK/r2.pem" r1 '{"iss":"'$IAM'","sub":"sub-a",
    "aud":"cmsweb","exp":"+600","preferred_username":"alice"}')
out=$(ka 0:"$TA" 0:"$TBAD" 0:"$TA")
assert_eq "a bad token after a good one is refused, not remembered" \
    "200 alice sub-a
401 - -
200 alice sub-a" "$out"

# ------------------------------------------------------------ expiry

# exp five seconds ahead, leeway 1s: good now, refused once it passed.
TX=$(tok r1 alice sub-x +5)
out=$(ka 0:"$TX" 7:"$TX" 0:"$TA")
assert_eq "a token expiring mid-connection is refused on the next request" \
    "200 alice sub-x
401 - -
200 alice sub-a" "$out"

# ------------------------------------------------------------ reloads

# Each step keeps one connection open across a change: the client sends
# its first request, waits for $WORK/go, then sends the rest.  The change
# is made, a fresh connection shows it took effect (so the reload has
# happened), then go is created.
OUT=$WORK/ka.out
# across EXPECT-OF-PROBE STEP...: start the connection in the background.
across() {
	rm -f "$WORK/go" "$OUT"
	( timeout 60 $KA 127.0.0.1 "$PX_PORT" /tok "$@" >"$OUT" 2>&1 ) &
	KP=$!
	wait_until 10 test -s "$OUT" || fail "first answer within 10 s"
}
# probe TOKEN CODE: a fresh connection with TOKEN answers CODE.
probe() { [ "$(ka 0:"$1" | cut -d' ' -f1)" = "$2" ]; }
go() {
	wait_until 10 probe "$1" "$2" || fail "$3: change seen within 10 s"
	touch "$WORK/go"
	wait $KP
}

across 0:"$TA" @"$WORK/go":"$TA" 0:"$TB"
printf 'dn: %s\n' "$ALICE_DN" >>"$WORK/banned.txt"
go "$TA" 403 ban
assert_eq "ban applied between two requests of one connection" \
    "200 alice sub-a
403 - -
200 bob sub-b" "$(cat "$OUT")"
cp "$PKI/banned.txt" "$WORK/banned.txt"
wait_until 10 probe "$TA" 200 || fail "ban lifted within 10 s"

# The key r2 leaves the key set while a connection uses a token it signed.
T2=$(tok r2 alice sub-r2)
across 0:"$T2" @"$WORK/go":"$T2" 0:"$TA"
$MINT jwks "$WORK/iam.new" r1="$WORK/r1.pem"
mv "$WORK/iam.new" "$WORK/iam.json"
go "$T2" 401 "key removal"
assert_eq "a removed key reaches an open connection" \
    "200 alice sub-r2
401 - -
200 alice sub-a" "$(cat "$OUT")"

# alice leaves the users map (CRIC) while her connection is open.
across 0:"$TA" @"$WORK/go":"$TA" 0:"$TB"
jq 'map(select(.LOGIN != "alice"))' "$PKI/users.json" >"$WORK/users.new" &&
    mv "$WORK/users.new" "$WORK/users.json"
go "$TA" 403 "users map"
assert_eq "a users-map change reaches an open connection" \
    "200 alice sub-a
403 - -
200 bob sub-b" "$(cat "$OUT")"

stop_proxy

# ------------------------------------------------------------ plain HTTP

# RFC 6750 5.3: a token over cleartext is refused on a plain listener,
# unless the listener says TLS ended in front of it (allow_plain_tokens).
cp "$PKI/users.json" "$WORK/users.json"
$MINT jwks "$WORK/iam.json" r1="$WORK/r1.pem" r2="$WORK/r2.pem"
PLAIN=$(free_port)
OPTIN=$(free_port)
cat >"$WORK/plain.yaml" <<EOF
workers: 1
listen:
  - address: 127.0.0.1:$PX_PORT
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
  - address: 127.0.0.1:$PLAIN
  - address: 127.0.0.1:$OPTIN
    allow_plain_tokens: true
routes:
  - path: /tok
    auth: token
    backends: [$BE]
  - path: /either
    auth: cert_or_token
    backends: [$BE]
  - path: /none
    auth: none
    backends: [$BE]
auth:
  ca_path: $PKI/certificates
  users: $WORK/users.json
  hmac_key: $WORK/hmac.key
  tokens:
    issuers:
      - issuer: $IAM
        jwks: $WORK/iam.json
        audiences: [cmsweb]
EOF
start_proxy "$WORK/plain.yaml"
n0=$(be_stats echo requests)
out=$(timeout 60 $KA --plain 127.0.0.1 "$PLAIN" /tok 0:"$TA" 0:- 2>&1)
assert_eq "plain listener: token refused 403, no token 401" "403 - -
401 - -" "$out"
assert_eq "plain listener: the backend got nothing" "$n0" \
    "$(be_stats echo requests)"
R=$(curl -s -D - -o "$WORK/p.body" -H "Authorization: Bearer $TA" \
    "http://127.0.0.1:$PLAIN/either" | tr -d '\r')
assert_contains "plain listener: says why" "$R" \
    'error="invalid_request", error_description="bearer token over plain HTTP refused; use https"'
assert_contains "plain listener: body says why" "$(cat "$WORK/p.body")" \
    "use https"
assert_not_contains "plain listener: token not echoed" \
    "$R$(cat "$WORK/p.body")" "${TA:0:40}"
out=$(timeout 60 $KA --plain 127.0.0.1 "$PLAIN" /none 0:"$TA" 2>&1)
assert_eq "plain listener: a route that reads no token is untouched" \
    "200 - -" "$out"
out=$(timeout 60 $KA --plain 127.0.0.1 "$OPTIN" /tok 0:"$TA" 0:"$TA" 2>&1)
assert_eq "allow_plain_tokens: accepted" "200 alice sub-a
200 alice sub-a" "$out"
out=$(ka 0:"$TA")
assert_eq "TLS listener of the same config: accepted" "200 alice sub-a" "$out"
stop_proxy
finish
