#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# --import-aps carries the whole Go auth-proxy-server config, or says what
# it could not (issue 13).  The fixture tests/fixtures/aps/aps-doc-example.json
# is the example config of the Go proxy's docs/aps.md, with that doc's two
# JSON typos fixed (a missing comma after iam_client_secret, and "..." in
# the providers list).  Checked key by key: hmac -> auth.hmac_key,
# cric_file -> auth.users, rootCAs -> auth.ca_path, metrics_port ->
# admin.address on loopback, verbose -> log.level, port/server_cert/
# server_key -> the listener, ingress -> routes with the service URL as
# backend and host_header; every other top-level key is named by a
# "# TODO", and the closing "N TODO(s)" equals the TODO lines written.  A
# variant with real issuer URLs maps iam_url/providers to
# auth.tokens.issuers (each once), a rootCAs list and an unknown key become
# TODOs, a key name with a newline cannot inject YAML, https service URLs
# become https backends (443 by default, host_header only for a name) with
# upstream.tls.ca from rootCAs (else the grid CA directory) and one TODO,
# and the output, with the files this test provides, passes `gridfront -t`.

. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/opslib.sh"

FX=$ROOT/tests/fixtures/aps/aps-doc-example.json
[ -f "$FX" ] || die "no $FX"
python3 -c 'import yaml' 2>/dev/null || die "python3-yaml is not installed"
command -v jq >/dev/null || die "jq is not installed"

imp() { timeout 10 "$GF" --import-aps "$1" >"$2" 2>"$WORK/imp.err"; }

# ------------------------------------------------------------ the doc example
imp "$FX" "$WORK/doc.yaml"
assert_eq "--import-aps on the docs/aps.md example exits 0" 0 "$?"
out=$(python3 - "$WORK/doc.yaml" "$FX" <<'EOF' 2>&1
import json, re, sys, yaml
path, fx = sys.argv[1], sys.argv[2]
text = open(path).read()
d = yaml.safe_load(text)
aps = json.load(open(fx))
def check(desc, got, want):
    print("%s %s%s" % ("ok" if got == want else "FAIL", desc,
          "" if got == want else ": got %r, want %r" % (got, want)))
l = d["listen"][0]
check("port -> listen.address", l["address"], "0.0.0.0:8181")
check("server_cert -> listen.tls.certificate", l["tls"]["certificate"], aps["server_cert"])
check("server_key -> listen.tls.key", l["tls"]["key"], aps["server_key"])
check("hmac -> auth.hmac_key", d["auth"]["hmac_key"], aps["hmac"])
check("cric_file -> auth.users", d["auth"]["users"], aps["cric_file"])
check("rootCAs -> auth.ca_path", d["auth"]["ca_path"], aps["rootCAs"])
check("metrics_port -> admin.address on loopback", d["admin"]["address"], "127.0.0.1:9091")
check("verbose -> log.level", d["log"]["level"], "debug")
check("no token issuer from placeholder URLs", "tokens" in d["auth"], False)
check("the fixed defaults are gone", [s for s in ("/etc/hmac/hmac", "/data/cric/users.json") if s in text], [])
r = d["routes"]
check("ingress -> 2 routes", len(r), 2)
for i, ing in enumerate(aps["ingress"]):
    check("ingress[%d] path" % i, r[i]["path"], "^" + ing["path"])
    check("ingress[%d] service_url -> backends" % i, r[i]["backends"], [ing["service_url"]])
    check("ingress[%d] auth" % i, r[i]["auth"], "cert")
    check("ingress[%d] host_header" % i, r[i].get("host_header"), "backend")
# Every top-level key: mapped above, or named by a TODO.
mapped = {"port", "server_cert", "server_key", "hmac", "cric_file", "rootCAs",
          "metrics_port", "verbose", "ingress", "cms_headers", "base"}
todos = re.findall(r"(?m)^\s*# TODO: ([A-Za-z_]+)", text)
# providers[0] and [1]: the key itself is one of them.
want = sorted(k for k in aps if k not in mapped) + ["providers"]
check("a TODO names each key without a mapping", sorted(todos), sorted(want))
check("base is empty and cms_headers true: nothing lost, no TODO",
      [t for t in todos if t in ("base", "cms_headers")], [])
n = len(re.findall(r"(?m)^\s*# TODO", text))
m = re.search(r"(?m)^# (\d+) route\(s\) imported, (\d+) TODO\(s\)$", text)
check("closing line present", m is not None, True)
check("the TODO count is honest", int(m.group(2)) if m else -1, n)
check("17 TODOs for the doc example", n, 17)
check("2 routes counted", int(m.group(1)) if m else -1, 2)
EOF
)
while IFS= read -r line; do
	case $line in
	ok\ *) pass "doc example: ${line#ok }" ;;
	*) fail "doc example: ${line#FAIL }" ;;
	esac
done <<<"$out"

# ------------------------------------------------------------ real issuers, -t
BE_P=$(free_port)
jq --arg pki "$PKI" --arg port "$(free_port)" --arg mport "$(free_port)" \
    --arg be "http://localhost:$BE_P" '
    .iam_url = "https://cms-auth.web.cern.ch/" |
    .providers = ["https://cms-auth.web.cern.ch/", "https://auth.cern.ch/auth/realms/cern", "not a url"] |
    .hmac = "hmac.key" | .cric_file = "users.json" | .rootCAs = "certificates" |
    .server_cert = "server.pem" | .server_key = "server.key" |
    .port = ($port | tonumber) | .metrics_port = ($mport | tonumber) |
    .ingress = [{"path": "/httpgo", "service_url": $be},
                {"path": "/ip", "service_url": "http://127.0.0.1:\($be | split(":") | last)"},
                {"path": "/tls", "service_url": "https://localhost:\($be | split(":") | last)/"},
                {"path": "/tls443", "service_url": "https://127.0.0.1"},
                {"path": "/tls6", "service_url": "https://[::1]"},
                {"path": "/tlspath", "service_url": "https://localhost:8443/x"}] |
    .insecureSkipVerify = true |
    .frobnicate = 1 | .["evil\nworkers: 7"] = "x"' "$FX" >"$WORK/real.json" ||
    die "jq failed"
mkdir -p "$WORK/t"
cp -r "$PKI/certificates" "$PKI/users.json" "$PKI/server.pem" \
    "$PKI/server.key" "$WORK/t/"
cp "$PKI/hmac.key" "$WORK/t/hmac.key" && chmod 0600 "$WORK/t/hmac.key"
imp "$WORK/real.json" "$WORK/t/real.yaml"
assert_eq "--import-aps on the variant exits 0" 0 "$?"
out=$(python3 - "$WORK/t/real.yaml" "$BE_P" <<'EOF' 2>&1
import re, sys, yaml
text = open(sys.argv[1]).read()
d = yaml.safe_load(text)
def check(desc, got, want):
    print("%s %s%s" % ("ok" if got == want else "FAIL", desc,
          "" if got == want else ": got %r, want %r" % (got, want)))
iss = d["auth"]["tokens"]["issuers"]
check("iam_url/providers -> issuers, each once",
      [i["issuer"] for i in iss],
      ["https://cms-auth.web.cern.ch/", "https://auth.cern.ch/auth/realms/cern"])
check("issuer key-set files", [i["jwks"] for i in iss],
      ["/etc/gridfront/jwks/cms-auth.web.cern.ch.json",
       "/etc/gridfront/jwks/auth.cern.ch_auth_realms_cern.json"])
check("issuer audiences", [i["audiences"] for i in iss],
      [["https://wlcg.cern.ch/jwt/v1/any"]] * 2)
todos = re.findall(r"(?m)^\s*# TODO: (\S+?):", text)
check("a TODO per issuer (key set, audience, identity)",
      todos.count("iam_url") + todos.count("providers[1]"), 2)
check("the provider that is no URL has a TODO", "providers[2]" in todos, True)
check("an unknown key has a TODO", "frobnicate" in todos, True)
check("a key name with a newline is one comment line",
      [l for l in text.splitlines() if "evil" in l],
      ["# TODO: evil?workers: 7: unknown APS key, not translated"])
check("... and injects nothing", d.get("workers"), "auto")
check("tokens: a TODO to choose token routes",
      len(re.findall(r"(?m)^# TODO: routes are written auth: cert", text)), 1)
check("no host_header for an IP-literal service URL",
      [r.get("host_header") for r in d["routes"][:2]], ["backend", None])
r = {x["path"]: x for x in d["routes"]}
check("https service URL -> https backend (trailing / dropped)",
      r.get("^/tls", {}).get("backends"), ["https://localhost:%s" % sys.argv[2]])
check("https service URL with a host name: host_header",
      r.get("^/tls", {}).get("host_header"), "backend")
check("https service URL without a port: 443",
      r.get("^/tls443", {}).get("backends"), ["https://127.0.0.1:443"])
check("https IP-literal service URL: no host_header",
      "host_header" in r.get("^/tls443", {"host_header": 1}), False)
check("https IPv6 service URL without a port: 443",
      r.get("^/tls6", {}).get("backends"), ["https://[::1]:443"])
check("https service URL with a path: left out with a TODO",
      re.findall(r"(?m)^  # TODO: service_url is not http\(s\)://.*$", text),
      ["  # TODO: service_url is not http(s)://host[:port][/]; rule left out:"])
check("https backends -> upstream.tls.ca from rootCAs",
      (d.get("upstream") or {}).get("tls"), {"ca": "certificates"})
check("upstream.tls: one TODO on the CA and client certificate",
      len(re.findall(r"(?m)^  # TODO: https backends: .*upstream\.tls\.ca", text)), 1)
check("insecureSkipVerify: a TODO saying what it was",
      len(re.findall(r"(?m)^# TODO: insecureSkipVerify: a TLS option of APS's own listener", text)), 1)
n = len(re.findall(r"(?m)^\s*# TODO", text))
m = re.search(r"(?m)^# (\d+) route\(s\) imported, (\d+) TODO\(s\)$", text)
check("the TODO count is honest", int(m.group(2)) if m else -1, n)
check("5 of the 6 rules imported", int(m.group(1)) if m else -1, 5)
EOF
)
while IFS= read -r line; do
	case $line in
	ok\ *) pass "issuers: ${line#ok }" ;;
	*) fail "issuers: ${line#FAIL }" ;;
	esac
done <<<"$out"

# The files the output names: relative ones are next to it; the key sets
# are empty (no token verifies, but they load), as the fetcher leaves them
# before its first run.
sed -i "s|/etc/gridfront/jwks/|$WORK/t/jwks/|; s|/etc/grid-security/vomsdir|$PKI/vomsdir|" \
    "$WORK/t/real.yaml"
mkdir -p "$WORK/t/jwks"
for j in cms-auth.web.cern.ch auth.cern.ch_auth_realms_cern; do
	echo '{"keys": []}' >"$WORK/t/jwks/$j.json"
done
out=$(timeout 20 "$GF" -t -c "$WORK/t/real.yaml" 2>&1)
rc=$?
assert_eq "--import-aps output (with the test's files) passes gridfront -t" 0 "$rc"
[ "$rc" = 0 ] || note "$out"

# rootCAs as a list of files (the README form): a TODO, the default dir.
jq '.rootCAs = ["/path/CA.crt", "/path/CA1.crt"]' "$FX" >"$WORK/list.json"
imp "$WORK/list.json" "$WORK/list.yaml"
assert_match "rootCAs list: a TODO asking for a hashed directory" \
    "$(cat "$WORK/list.yaml")" "# TODO: rootCAs is a list of CA files"
assert_match "rootCAs list: ca_path keeps the default directory" \
    "$(cat "$WORK/list.yaml")" "ca_path: /etc/grid-security/certificates"
# ... and so does upstream.tls.ca for an https service URL.
jq '.rootCAs = ["/path/CA.crt"] | .ingress += [{"path": "/tls", "service_url": "https://tls.example:8443"}]' \
    "$FX" >"$WORK/list-tls.json"
imp "$WORK/list-tls.json" "$WORK/list-tls.yaml"
assert_eq "rootCAs list, https backend: upstream.tls.ca is the default directory" \
    "/etc/grid-security/certificates" \
    "$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["upstream"]["tls"]["ca"])' \
    "$WORK/list-tls.yaml" 2>&1)"
finish
