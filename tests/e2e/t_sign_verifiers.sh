#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# routes[].sign_as against the two kinds of verifier CMS backends run
# (issue 19), gridfront in front of both:
#   verify_go.py       the Go services' check (cmsauth GetHmac): HMAC over
#                      the raw header bytes;
#   verify_cherrypy.py WMCore's user_info_from_headers in a real CherryPy
#                      application: Python 3 sees each byte as a Latin-1
#                      character and hashes the message as UTF-8.
# First the verifiers themselves are held to the PROTOCOL.md vectors, so
# that they can fail.  Then, through gridfront, ASCII users (alice,
# specials, multirdn) verify at both in both modes, while users with
# non-ASCII bytes (utf8: "José Müller" in name and DN; utf8dn: a UTF-8 DN
# and an ASCII name; astral: 4-byte characters in name and DN) verify with
# sign_as: bytes only at the Go-style verifier and with sign_as:
# py3-latin1 only at the CherryPy one, which also recovers the identity.
# The echo backend shows the header bytes are the same in both modes but
# for cms-authn-hmac.  Last, a CRIC record whose NAME is not UTF-8 is
# refused at load, logged and counted, on start and on reload, while the
# rest of the file works.  The CherryPy part runs where CherryPy (Debian
# python3-cherrypy3) can be imported, and is skipped with a note otherwise.

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

HC=$E2E_DIR/hmac_check.py
command -v python3 >/dev/null || die "python3 is not installed"

# A python3 that has CherryPy (the Debian package installs it for the
# system python, which may not be the first python3 on PATH).
CP_PY=
for py in python3 /usr/bin/python3; do
	if command -v "$py" >/dev/null 2>&1 &&
	    "$py" -c 'import cherrypy' >/dev/null 2>&1; then
		CP_PY=$py
		break
	fi
done
[ -n "$CP_PY" ] || note "SKIP CherryPy verifier checks: python3-cherrypy3" \
    "is not installed (.ci/deps.sh installs it)"

cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
KEY=$WORK/hmac.key
printf 'example-20-byte-key!' >"$WORK/vectors.key"
chmod 0600 "$WORK/vectors.key"

# ------------------------------------------------------------------ verifiers

python3 "$E2E_DIR/verify_go.py" --key "$KEY" --vectors-key "$WORK/vectors.key" \
    >"$WORK/vgo.out" 2>"$WORK/vgo.err" &
PIDS+=($!)
wait_until 10 grep -q '^PORT ' "$WORK/vgo.out" ||
    die "verify_go.py did not start: $(head -c 300 "$WORK/vgo.err")"
GO_PORT=$(awk '/^PORT /{ print $2; exit }' "$WORK/vgo.out")

CP_PORT=
if [ -n "$CP_PY" ]; then
	CP_PORT=$(free_port)
	"$CP_PY" "$E2E_DIR/verify_cherrypy.py" --port "$CP_PORT" --key "$KEY" \
	    --vectors-key "$WORK/vectors.key" >"$WORK/vcp.out" 2>"$WORK/vcp.err" &
	PIDS+=($!)
	wait_until 15 grep -q '^PORT ' "$WORK/vcp.out" &&
	    wait_until 5 port_open "$CP_PORT" ||
	    die "verify_cherrypy.py did not start: $(head -c 300 "$WORK/vcp.err")"
fi
start_backend echo

# ask URL [curl args...]: V_CODE, V_JSON (the verifier's report).
ask() {
	local url=$1; shift
	V_CODE=$(timeout "$T_STEP" curl -sS --http1.1 --max-time "$T_STEP" \
	    -o "$WORK/v.json" -w '%{http_code}' "$@" "$url" 2>"$WORK/v.err")
	V_JSON=$(cat "$WORK/v.json" 2>/dev/null)
}
vfield() { jq -r --arg f "$1" '.[$f] // "(null)"' <<<"$V_JSON" 2>/dev/null; }

# ------------------------------------------------------------------ vectors
# The verifiers alone, on PROTOCOL.md's vectors and their example key.

DN1='/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=jdoe/CN=123456/CN=John Doe'
V1=(-H 'cms-auth-status: OK' -H 'cms-authn-method: X509Cert'
    -H "cms-authn-dn: $DN1" -H 'cms-authn-login: jdoe'
    -H 'cms-authn-name: John Doe'
    -H 'cms-authz-admin: group:reqmgr site:t1-ch-cern'
    -H 'cms-authz-user: group:users')
V1_HMAC=a9299982340653b509e7499b50234cb5c8ef8310
V2=(-H 'cms-auth-status: OK' -H 'cms-authn-login: jmuller'
    -H 'cms-authn-method: X509Cert' -H $'cms-authn-name: Jos\xc3\xa9 M\xc3\xbcller')
V2_HMAC=07a466a450b07b2e78529a7a4ae805af6755ef3b
# Vector 2 as a Python 3 verifier hashes it (tests/unit/test_sign.c).
V2_PY3_HMAC=5d3df49d8bc0c8409478692c2eb4fc3a3beae26b

# vec NAME PORT EXPECT-V1 EXPECT-V2-BYTES EXPECT-V2-PY3
vec() {
	local n=$1 u="http://127.0.0.1:$2/vectors/x"
	ask "$u" "${V1[@]}" -H "cms-authn-hmac: $V1_HMAC"
	assert_eq "$n: vector 1" "$3" "$(vfield verdict)"
	ask "$u" "${V1[@]}" -H 'cms-authn-login: jdoe2' \
	    -H "cms-authn-hmac: $V1_HMAC"
	assert_eq "$n: vector 1 with a second login header" "$3" "$(vfield verdict)"
	ask "$u" "${V1[@]/jdoe/jdo3}" -H "cms-authn-hmac: $V1_HMAC"
	assert_eq "$n: vector 1 with a value changed" bad "$(vfield verdict)"
	ask "$u" "${V2[@]}" -H "cms-authn-hmac: $V2_HMAC"
	assert_eq "$n: vector 2 signed over bytes" "$4" "$(vfield verdict)"
	ask "$u" "${V2[@]}" -H "cms-authn-hmac: $V2_PY3_HMAC"
	assert_eq "$n: vector 2 signed py3-latin1" "$5" "$(vfield verdict)"
	ask "$u" -H 'cms-authn-login: x'
	assert_eq "$n: no cms-auth-status" missing "$(vfield verdict)"
}
# (A repeated header: Go keeps the first value, CherryPy joins them,
# so only the Go-style check still verifies.)
vec "Go-style verifier" "$GO_PORT" ok ok bad
if [ -n "$CP_PORT" ]; then
	ask "http://127.0.0.1:$CP_PORT/vectors/x" "${V1[@]}" \
	    -H "cms-authn-hmac: $V1_HMAC"
	assert_eq "CherryPy verifier: vector 1" ok "$(vfield verdict)"
	ask "http://127.0.0.1:$CP_PORT/vectors/x" "${V1[@]/jdoe/jdo3}" \
	    -H "cms-authn-hmac: $V1_HMAC"
	assert_eq "CherryPy verifier: vector 1 with a value changed" bad \
	    "$(vfield verdict)"
	ask "http://127.0.0.1:$CP_PORT/vectors/x" "${V2[@]}" \
	    -H "cms-authn-hmac: $V2_HMAC"
	assert_eq "CherryPy verifier: vector 2 signed over bytes (the bug)" bad \
	    "$(vfield verdict)"
	assert_eq "CherryPy verifier: sees vector 2's name as Latin-1 text" \
	    'JosÃ© MÃ¼ller' "$(vfield name)"
	ask "http://127.0.0.1:$CP_PORT/vectors/x" "${V2[@]}" \
	    -H "cms-authn-hmac: $V2_PY3_HMAC"
	assert_eq "CherryPy verifier: vector 2 signed py3-latin1" ok \
	    "$(vfield verdict)"
	assert_eq "CherryPy verifier: vector 2's name recovered" 'José Müller' \
	    "$(vfield name_utf8)"
	ask "http://127.0.0.1:$CP_PORT/vectors/x" -H 'cms-authn-login: x'
	assert_eq "CherryPy verifier: no cms-auth-status" missing "$(vfield verdict)"
fi

# ------------------------------------------------------------------ proxy

auth_yaml() {
	cat <<EOF
auth:
  ca_path: $PKI/certificates
  users: $1
  hmac_key: $KEY
  reload_interval: 200ms
EOF
}
ECHO=$(be_url echo)
routes="  - path: /go/bytes/
    backends: [http://127.0.0.1:$GO_PORT]
  - path: /go/py3/
    sign_as: py3-latin1
    backends: [http://127.0.0.1:$GO_PORT]
  - path: /echo/bytes/
    sign_as: bytes
    backends: [$ECHO]
  - path: /echo/py3/
    sign_as: py3-latin1
    backends: [$ECHO]"
if [ -n "$CP_PORT" ]; then
	routes="$routes
  - path: /cp/bytes/
    backends: [http://127.0.0.1:$CP_PORT]
  - path: /cp/py3/
    sign_as: py3-latin1
    backends: [http://127.0.0.1:$CP_PORT]"
fi
std_conf "$WORK/sign.yaml" "$routes" "$(auth_yaml "$PKI/users.json")"
start_proxy "$WORK/sign.yaml"

dn_of() { awk -F'\t' -v c="$1" '$1 == c { print $2; exit }' "$PKI/dns.txt"; }
# cric CRED FIELD: FIELD of the CRIC record of CRED's DN.
cric() {
	jq -r --arg dn "$(dn_of "$1")" --arg f "$2" \
	    '.[] | select(.DN == $dn) | .[$f]' "$PKI/users.json"
}

# through CRED PATH: a request through gridfront with CRED's certificate.
through() {
	ask "$(px_url)$2" --cacert "$PKI/ca-bundle.pem" \
	    --cert "$PKI/creds/$1.pem"
}

# check CRED KIND(go|cp) MODE EXPECT
check() {
	local cred=$1 kind=$2 mode=$3 want=$4 d
	d="$cred via sign_as: $mode at the $([ "$kind" = go ] &&
	    echo Go-style || echo CherryPy) verifier"
	through "$cred" "/$kind/$mode/x"
	assert_eq "$d: status 200" 200 "$V_CODE"
	assert_eq "$d: $want" "$want" "$(vfield verdict)"
	[ "$want" = ok ] || return 0
	assert_eq "$d: login" "$(cric "$cred" LOGIN)" "$(vfield login)"
	if [ "$kind" = go ]; then
		assert_eq "$d: name" "$(cric "$cred" NAME)" "$(vfield name)"
		assert_eq "$d: DN" "$(cric "$cred" DN)" "$(vfield dn)"
	else
		assert_eq "$d: name recovered" "$(cric "$cred" NAME)" \
		    "$(vfield name_utf8)"
		assert_eq "$d: DN recovered" "$(cric "$cred" DN)" \
		    "$(vfield dn_utf8)"
	fi
}

for cred in alice specials multirdn; do
	for mode in bytes py3; do
		check "$cred" go "$mode" ok
		[ -n "$CP_PORT" ] && check "$cred" cp "$mode" ok
	done
done
for cred in utf8 utf8dn astral; do
	check "$cred" go bytes ok
	check "$cred" go py3 bad
	if [ -n "$CP_PORT" ]; then
		check "$cred" cp bytes bad
		check "$cred" cp py3 ok
	fi
done

# The same header bytes in both modes; only the HMAC may differ.
# cms_of PATH CRED: the cms-* lines the echo backend received.
cms_of() {
	through "$2" "$1"
	python3 "$HC" cms <"$WORK/v.json" | grep -v '^cms-request-uri: '
}
for cred in alice utf8 astral; do
	b=$(cms_of /echo/bytes/x "$cred")
	p=$(cms_of /echo/py3/x "$cred")
	assert_eq "$cred: cms-* headers equal in both modes but the HMAC" \
	    "$(grep -v '^cms-authn-hmac: ' <<<"$b")" \
	    "$(grep -v '^cms-authn-hmac: ' <<<"$p")"
	assert_contains "$cred: the name sent is CRIC's UTF-8, in both modes" \
	    "$b$p" "cms-authn-name: $(cric "$cred" NAME)"
	if [ "$cred" = alice ]; then
		assert_eq "$cred: ASCII, so the same HMAC" \
		    "$(grep '^cms-authn-hmac: ' <<<"$b")" \
		    "$(grep '^cms-authn-hmac: ' <<<"$p")"
	else
		assert_ne "$cred: non-ASCII, so another HMAC" \
		    "$(grep '^cms-authn-hmac: ' <<<"$b")" \
		    "$(grep '^cms-authn-hmac: ' <<<"$p")"
	fi
done
through utf8 /echo/bytes/x
assert_true "utf8 via bytes: hmac_check.py verifies the raw bytes" \
    python3 "$HC" verify "$KEY" <"$WORK/v.json"
stop_proxy

# ------------------------------------------------------------------ CRIC
# A record whose NAME is Latin-1, not UTF-8: refused and counted, the
# rest of the file in force.

# bad_users OUT N: users.json plus N records with a Latin-1 NAME.
bad_users() {
	python3 - "$PKI/users.json" "$1" "$2" <<'EOF'
import json, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
users = json.load(open(src, encoding="utf-8"))
for i in range(n):
    users.append({"DN": "/DC=ch/DC=cern/CN=latin1-%d" % i, "ID": 900 + i,
                  "LOGIN": "latin1%d" % i, "NAME": "@@NAME@@", "ROLES": {}})
text = json.dumps(users, ensure_ascii=False).encode("utf-8")
text = text.replace(b"@@NAME@@", "Jos\xe9 M\xfcller".encode("latin-1"))
open(out + ".new", "wb").write(text)
EOF
	mv -f "$1.new" "$1"
}
bad_users "$WORK/users.json" 1
ADMIN_PORT=$(free_port)
std_conf "$WORK/cric.yaml" "  - path: /echo/
    backends: [$ECHO]" "$(auth_yaml "$WORK/users.json")
admin: {address: 127.0.0.1:$ADMIN_PORT}"
start_proxy "$WORK/cric.yaml"
nbad() {
	curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
	    awk '$1 == "gridfront_cric_bad_utf8_records" { print $2 }'
}
n=$(jq length "$PKI/users.json")
assert_eq "CRIC: one record refused, counted" 1 "$(nbad)"
assert_match "CRIC: refusal logged at start, with the record" \
    "$(grep -a 'not valid UTF-8' "$PX_LOG")" \
    "1 record\(s\) refused.*record $((n + 1)): NAME is not valid UTF-8"
through alice /echo/x
assert_eq "CRIC: the rest of the file works (alice)" 200 "$V_CODE"
through utf8 /echo/x
assert_eq "CRIC: and its UTF-8 users (utf8)" 200 "$V_CODE"

bad_users "$WORK/users.json" 2
wait_until 10 eval '[ "$(nbad)" = 2 ]'
assert_eq "CRIC reload: two records refused, counted" 2 "$(nbad)"
assert_match "CRIC reload: refusal logged" \
    "$(grep -a 'not valid UTF-8' "$PX_LOG" | tail -n 1)" \
    "2 record\(s\) refused"
cp "$PKI/users.json" "$WORK/users.json.new"
mv -f "$WORK/users.json.new" "$WORK/users.json"
wait_until 10 eval '[ "$(nbad)" = 0 ]'
assert_eq "CRIC reload: a clean file counts none" 0 "$(nbad)"
stop_proxy

finish
