#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# dist/gridfront-jwks against a stand-in issuer: a Python HTTPS server on
# 127.0.0.1 with the test PKI's server certificate, serving an OpenID
# configuration and a key set.  A good run writes only the usable keys and
# gridfront -t loads the file; each bad answer (issuer mismatch, http
# jwks_uri, a cut file, no usable key, a duplicate kid, an untrusted
# server) fails and leaves the previous file byte for byte.

T_STEP=${T_STEP:-20}
. "$(dirname "$0")/lib.sh"

PY=python3
/usr/bin/python3 -c 'import jwt' 2>/dev/null && PY=/usr/bin/python3
FETCH=$ROOT/dist/gridfront-jwks
MINT="$PY $E2E_DIR/jwt_mint.py"
WWW=$WORK/www
mkdir -p "$WWW/.well-known"
PORT=$(free_port)
ISS="https://127.0.0.1:$PORT/realm"

"$PY" - "$WWW" "$PORT" "$PKI/server.pem" "$PKI/server.key" \
    >"$WORK/issuer.log" 2>&1 <<'PYEOF' &
import functools, http.server, ssl, sys
d, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d)
s = http.server.ThreadingHTTPServer(("127.0.0.1", port), h)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.load_cert_chain(cert, key)
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PYEOF
PIDS+=("$!")
wait_until 5 port_open "$PORT" || die "stand-in issuer did not start"

$MINT key rsa "$WORK/r1.pem"
$MINT key ec "$WORK/e1.pem"
$MINT jwks "$WORK/good.json" r1="$WORK/r1.pem" e1="$WORK/e1.pem"
mkdir -p "$WWW/realm/.well-known"
disc() {	# disc ISSUER JWKS_URI
	printf '{"issuer": "%s", "jwks_uri": "%s"}\n' "$1" "$2" \
	    >"$WWW/realm/.well-known/openid-configuration"
}
keys() { cp "$1" "$WWW/certs"; }

OUT=$WORK/jwks/iam.json
mkdir -p "$WORK/jwks"
run_fetch() {
	JWKS_CACERT=${CA-$PKI/ca-bundle.pem} timeout "$T_STEP" \
	    sh "$FETCH" "$ISS" "$OUT" >"$WORK/fetch.out" 2>"$WORK/fetch.err"
	F_RC=$?
}

# A good answer, with an encryption key and an HMAC key to drop.
jq '.keys += [{"kty":"oct","kid":"h","k":"AAAA"},
    {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}]' \
    "$WORK/good.json" >"$WORK/mixed.json"
keys "$WORK/mixed.json"
disc "$ISS" "https://127.0.0.1:$PORT/certs"
run_fetch
assert_eq "good issuer: exit 0" 0 "$F_RC"
assert_eq "only the usable keys kept" "r1 e1" \
    "$(jq -r '[.keys[].kid] | join(" ")' "$OUT" 2>&1)"
cat >"$WORK/t.yaml" <<YEOF
listen:
  - address: 127.0.0.1:$(free_port)
routes:
  - path: /
    auth: token
    backends: [http://127.0.0.1:9]
auth:
  ca_path: $PKI/certificates
  users: $PKI/users.json
  hmac_key: $WORK/hmac.key
  tokens:
    issuers:
      - issuer: $ISS
        jwks: $OUT
        audiences: [cmsweb]
YEOF
cp "$PKI/hmac.key" "$WORK/hmac.key"; chmod 0600 "$WORK/hmac.key"
v=$("$GF" -t -c "$WORK/t.yaml" 2>&1)
if [ $? -eq 0 ]; then pass "gridfront -t loads the fetched key set"
else fail "gridfront -t loads the fetched key set" "$v"; fi
cp "$OUT" "$WORK/before.json"

# bad_case DESC: the fetch fails and the file is unchanged.
bad_case() {
	run_fetch
	assert_ne "$1: fails" 0 "$F_RC"
	if cmp -s "$OUT" "$WORK/before.json"; then
		pass "$1: previous file kept"
	else fail "$1: previous file kept"; fi
	assert_contains "$1: says so" "$(cat "$WORK/fetch.err")" "left as it was"
}

disc "https://127.0.0.1:$PORT/other" "https://127.0.0.1:$PORT/certs"
bad_case "issuer mismatch"
disc "$ISS" "http://127.0.0.1:$PORT/certs"
bad_case "http jwks_uri"
disc "$ISS" "https://127.0.0.1:$PORT/certs"
head -c 100 "$WORK/good.json" >"$WORK/cut.json"
keys "$WORK/cut.json"
bad_case "a cut key set"
echo '{"keys":[{"kty":"oct","kid":"h","k":"AAAA"}]}' >"$WORK/none.json"
keys "$WORK/none.json"
bad_case "no usable key"
jq '.keys += [.keys[0]]' "$WORK/good.json" >"$WORK/dup.json"
keys "$WORK/dup.json"
bad_case "duplicate kid"
echo '[]' >"$WORK/arr.json"
keys "$WORK/arr.json"
bad_case "not an object"
keys "$WORK/good.json"
CA=/dev/null
bad_case "untrusted server certificate"
unset CA
rm -f "$WWW/realm/.well-known/openid-configuration"
bad_case "no OpenID configuration"
finish
