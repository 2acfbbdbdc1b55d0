#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The trouble page, end to end: GET /auth/trouble answers on every TLS
# listener (two here, RSA and EC host certificates), in HTML by default
# and in JSON with "Accept: application/json" (parsed with python's json
# module), for no certificate, a good user, a VOMS proxy (FQANs listed),
# an untrusted AC (no FQANs, a reason), a revoked, an expired and an
# unregistered user (the problem in plain words), a banned user, a depth-2
# proxy chain (every certificate with its proxy type), and DNs with UTF-8
# and HTML-special characters (escaped in the HTML).  It is never routed:
# a catch-all route (auth: cert) and an /auth/ route to the echo backend
# exist, and the backend's request count does not move.

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || die "python3 is not installed"

start_backend echo
BE=$(be_url echo)
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"

PX_PORT=$(free_port)
PORT2=$(free_port)
cat >"$WORK/trouble.yaml" <<EOF
workers: ${GF_WORKERS:-1}
listen:
  - address: 127.0.0.1:$PX_PORT
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
  - address: 127.0.0.1:$PORT2
    tls: {certificate: $PKI/server-ec.pem, key: $PKI/server-ec.key}
routes:
  - path: /auth/
    auth: none
    backends: [$BE]
  - path: /
    backends: [$BE]
auth:
  ca_path: $PKI/certificates
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  banned: $PKI/banned.txt
  hmac_key: $WORK/hmac.key
EOF
start_proxy "$WORK/trouble.yaml"

dn_of() { awk -F'\t' -v c="$1" '$1 == c { print $2; exit }' "$PKI/dns.txt"; }
be_n() { be_stats echo requests; }

# page PORT CRED html|json: fetch the page; P_CODE, P_TYPE, P_BODY and
# $WORK/page.body.
page() {
	local a=() h=()
	[ "$2" != - ] && a=(--cert "$PKI/creds/$2.pem")
	[ "$3" = json ] && h=(-H 'Accept: application/json')
	P_CODE=$(gcurl -D "$WORK/page.head" -o "$WORK/page.body" \
	    -w '%{http_code}' "${a[@]}" "${h[@]}" \
	    "https://127.0.0.1:$1/auth/trouble" 2>"$WORK/page.err")
	P_TYPE=$(awk -F': *' 'tolower($1) == "content-type" { sub(/\r$/, "", $2); print $2 }' \
	    "$WORK/page.head")
	P_BODY=$(cat "$WORK/page.body")
}

# pj DESC PYTHON-EXPR [ARG]: assert EXPR (j = the parsed JSON page, a =
# ARG) is true.
pj() {
	local out
	out=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
a = sys.argv[3] if len(sys.argv) > 3 else None
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)' "$WORK/page.body" "$2" "${3:-}" 2>&1)
	if [ $? -eq 0 ]; then pass "$1"
	else fail "$1" "false: $2 ${3:+(a=$3)}" "$out" "page: $(head -c 400 "$WORK/page.body")"; fi
}

# json_ok DESC: 200, application/json, parses.
json_ok() {
	assert_eq "$1: status 200" 200 "$P_CODE"
	assert_match "$1: Content-Type application/json" "$P_TYPE" '^application/json'
	pj "$1: the body is valid JSON (an object)" 'isinstance(j, dict)'
}

html_ok() {
	assert_eq "$1: status 200" 200 "$P_CODE"
	assert_match "$1: Content-Type text/html" "$P_TYPE" '^text/html'
	assert_contains "$1: an HTML document" "$P_BODY" "<html"
}

ALICE_DN=$(dn_of alice)
FQ1=/cms/Role=production/Capability=NULL
FQ2=/cms/Role=NULL/Capability=NULL
n0=$(be_n)

for port in "$PX_PORT" "$PORT2"; do
	L="listener $port"

	# No certificate.
	page "$port" - json
	json_ok "$L no cert JSON"
	pj "$L no cert JSON: no certificate presented" 'j["certificate_presented"] is False'
	pj "$L no cert JSON: empty chain, no user DN" 'j["chain"] == [] and j["user_dn"] is None'
	pj "$L no cert JSON: verification says no certificate" \
	    '"no certificate" in j["verification"].lower()'
	page "$port" - html
	html_ok "$L no cert HTML"
	assert_contains "$L no cert HTML: says no certificate" "$P_BODY" "no certificate"

	# A good user.
	page "$port" alice json
	json_ok "$L alice JSON"
	pj "$L alice JSON: presented, verification OK" \
	    'j["certificate_presented"] is True and j["verification"] == "OK"'
	pj "$L alice JSON: user DN" 'j["user_dn"] == a' "$ALICE_DN"
	pj "$L alice JSON: chain starts with alice, issued by the test CA" \
	    'j["chain"][0]["subject"] == a and j["chain"][0]["issuer"].endswith("CN=gridfront Test CA")' "$ALICE_DN"
	pj "$L alice JSON: chain entries carry expiry and proxy type" \
	    'all(c.get("not_after") and c.get("proxy") == "none" for c in j["chain"])'
	pj "$L alice JSON: CRIC login and role" \
	    'j["cric"]["registered"] is True and j["cric"]["login"] == "alice" and "group:users" in json.dumps(j["cric"]["roles"]["user"])'
	pj "$L alice JSON: not banned" 'j["banned"] is False'
	page "$port" alice html
	html_ok "$L alice HTML"
	assert_contains "$L alice HTML: user DN" "$P_BODY" "$ALICE_DN"
	assert_contains "$L alice HTML: CRIC login" "$P_BODY" "alice"
	assert_contains "$L alice HTML: CRIC role" "$P_BODY" "group:users"

	# VOMS: FQANs listed, in AC order.
	page "$port" voms json
	json_ok "$L voms JSON"
	pj "$L voms JSON: FQANs in AC order" "j['fqans'] == ['$FQ1', '$FQ2']"
	pj "$L voms JSON: the leaf is an RFC 3820 proxy, user DN is alice" \
	    'j["chain"][0]["proxy"] != "none" and j["user_dn"] == a' "$ALICE_DN"
	page "$port" voms html
	html_ok "$L voms HTML"
	assert_contains "$L voms HTML: FQAN 1" "$P_BODY" "$FQ1"
	assert_contains "$L voms HTML: FQAN 2" "$P_BODY" "$FQ2"

	page "$port" voms_untrusted json
	json_ok "$L voms_untrusted JSON"
	pj "$L voms_untrusted JSON: no FQANs, and a reason why" \
	    'j["fqans"] == [] and isinstance(j.get("voms_error"), str) and j["voms_error"] != ""'

	# Refused and unknown users: the problem in plain words.
	page "$port" revoked json
	json_ok "$L revoked JSON"
	pj "$L revoked JSON: presented, verification says revoked" \
	    'j["certificate_presented"] is True and "revoked" in j["verification"].lower()'
	pj "$L revoked JSON: the chain is still shown" \
	    'len(j["chain"]) >= 2 and "CN=revoked" in j["chain"][0]["subject"]'
	page "$port" revoked html
	html_ok "$L revoked HTML"
	assert_contains "$L revoked HTML: says revoked" "$P_BODY" "revoked"

	page "$port" expired json
	json_ok "$L expired JSON"
	pj "$L expired JSON: verification says expired" '"expired" in j["verification"].lower()'

	page "$port" unregistered json
	json_ok "$L unregistered JSON"
	pj "$L unregistered JSON: verified, DN shown" \
	    'j["verification"] == "OK" and j["user_dn"] == a' "$(dn_of unregistered)"
	pj "$L unregistered JSON: not registered in CRIC" \
	    'j["cric"]["registered"] is False and "not registered" in json.dumps(j["cric"])'
	page "$port" unregistered html
	html_ok "$L unregistered HTML"
	assert_contains "$L unregistered HTML: says not registered" "$P_BODY" "not registered"

	page "$port" banned json
	json_ok "$L banned JSON"
	pj "$L banned JSON: banned" 'j["banned"] is True'

	# A depth-2 proxy chain: every certificate, with its proxy type.
	page "$port" proxy2 json
	json_ok "$L proxy2 JSON"
	pj "$L proxy2 JSON: chain has 3+ entries" 'len(j["chain"]) >= 3'
	pj "$L proxy2 JSON: two proxies, then the user certificate" \
	    '[c["proxy"] != "none" for c in j["chain"][:3]] == [True, True, False] and j["chain"][2]["subject"] == a' \
	    "$ALICE_DN"
	pj "$L proxy2 JSON: proxy subjects and issuers chain up" \
	    'j["chain"][0]["issuer"] == j["chain"][1]["subject"] and j["chain"][1]["issuer"] == j["chain"][2]["subject"]'
	pj "$L proxy2 JSON: user DN is the end-entity's" 'j["user_dn"] == a' "$ALICE_DN"
	page "$port" proxy2 html
	html_ok "$L proxy2 HTML"
	assert_contains "$L proxy2 HTML: the depth-2 proxy subject" "$P_BODY" "$ALICE_DN/CN=1001/CN=2002"
	assert_match "$L proxy2 HTML: a proxy type is shown" "$P_BODY" '[Pp]roxy'

	page "$port" proxy_limited json
	pj "$L proxy_limited JSON: leaf type says limited" '"limited" in j["chain"][0]["proxy"].lower()'

	# Awkward DNs: UTF-8 intact in JSON, HTML specials escaped.
	page "$port" utf8 json
	pj "$L utf8 JSON: UTF-8 DN intact" 'j["user_dn"] == a' "$(dn_of utf8)"
	page "$port" specials json
	pj "$L specials JSON: DN with RFC 2253 specials intact" 'j["user_dn"] == a' "$(dn_of specials)"
	page "$port" specials html
	html_ok "$L specials HTML"
	assert_not_contains "$L specials HTML: '<s>' from the DN is not raw HTML" "$P_BODY" "<s>"
	assert_contains "$L specials HTML: '<s>' escaped" "$P_BODY" "&lt;s&gt;"
done

assert_eq "the trouble page never reached the backend" "$n0" "$(be_n)"

# The routes around it still work (so the count above means something).
code=$(gcurl -o /dev/null -w '%{http_code}' "$(px_url)/auth/other")
assert_eq "/auth/other is routed to the backend" 200 "$code"
assert_eq "... and the backend counted it" "$((n0 + 1))" "$(be_n)"

stop_proxy
assert_eq "proxy exits 0 on SIGTERM" 0 "$?"
finish
