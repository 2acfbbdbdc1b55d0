#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Route tooling, migration and packaging (issue 5):
#  - --routes prints the rules in evaluation order with their line numbers;
#  - --test-route prints the route, the rewritten upstream path, the
#    backends and the auth policy (the README's WMStats example and the
#    production example's policies), and agrees with the running proxy
#    for paths with a query string or dot segments;
#  - --import-aps on tests/fixtures/aps/cmsweb.json: the output parses,
#    passes `gridfront -t` once host names and file paths are replaced,
#    imports the https service as an https backend with upstream.tls.ca
#    and a TODO, serves it through a loopback TLS backend, and
#    --test-route on it gives the route and rewrite the Go
#    auth-proxy-server would (its PathMatched and redirect logic, modelled
#    independently below) for a table of paths;
#  - a missing or empty hmac_key file: `-t` fails with a clear message and
#    the proxy refuses to start;
#  - `make install DESTDIR=... PREFIX=...` installs the binary, the unit,
#    the logrotate snippet and the example config; the unit passes
#    `systemd-analyze verify` (skipped if absent) and the binary speaks the
#    sd_notify protocol the unit's Type=notify relies on.

. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/opslib.sh"

EX=$ROOT/conf/examples/gridfront.yaml
APS=$ROOT/tests/fixtures/aps/cmsweb.json
[ -f "$EX" ] || die "no $EX"
[ -f "$APS" ] || die "no $APS"
python3 -c 'import yaml' 2>/dev/null || die "python3-yaml is not installed"

# ------------------------------------------------------------------ --routes
out=$(timeout 10 "$GF" --routes -c "$EX" 2>&1)
assert_eq "--routes exits 0" 0 "$?"
want=$(awk '/^  - path: / { n++; sub(/^  - path: /, ""); printf "%d\t%s\t(line %d)\n", n, $0, NR }' "$EX")
got=$(awk -F'\t' '{ printf "%s\t%s\t%s\n", $1, $3, $NF }' <<<"$out")
assert_eq "--routes: every route, in file order, with its line number" "$want" "$got"
assert_match "--routes: kind, rewrite, policy and backends shown" \
    "$(sed -n 2p <<<"$out")" $'^2\tregex\t\\^/couchdb/wmstats/.*\trewrite .* -> /wmstats/_design/WMStatsErl7/_view/\\$1\tauth=cert\tbackends=http://127\\.0\\.0\\.1:5984\t'
assert_match "--routes: require_fqan shown" "$(sed -n 5p <<<"$out")" \
    'require_fqan=/cms/Role=production,/cms/Role=t0operator'

# ------------------------------------------------------------------ --test-route
troute() { timeout 10 "$GF" --test-route "$1" -c "${2:-$EX}" 2>&1; }
out=$(troute /couchdb/wmstats/_design/WMStats/_view/requestByStatus)
# The line of that route in the example, wherever edits above it put it.
wm_line=$(grep -n -m1 -- '- path: \^/couchdb/wmstats/_design/WMStats/_view/' "$EX" | cut -d: -f1)
assert_match "--test-route WMStats: route #2, regex, line" "$out" \
    "route: +#2 \\^/couchdb/wmstats/_design/WMStats/_view/\\(\\.\\*\\)\\$ \\(regex, line $wm_line\\)"
assert_match "--test-route WMStats: rewritten upstream path" "$out" \
    $'upstream: +/wmstats/_design/WMStatsErl7/_view/requestByStatus(\n|$)'
assert_match "--test-route WMStats: backends" "$out" 'backends: +http://127\.0\.0\.1:5984'
assert_match "--test-route WMStats: auth policy" "$out" $'auth: +cert(\n|$)'
assert_match "--test-route: VOMS and allow-list policy" "$(troute /reqmgr2/data/request)" \
    'auth: +cert, requires VOMS /cms/Role=production or /cms/Role=t0operator, address allow-list set'
assert_match "--test-route: limited proxies" "$(troute /crabcache/x)" 'auth: +cert, limited proxies allowed'
assert_match "--test-route: optional" "$(troute /t0wmadatasvc/x)" $'auth: +optional(\n|$)'
assert_match "--test-route: two backends" "$(troute /dbs/prod/x)" \
    'backends: +http://127\.0\.0\.1:8250 http://127\.0\.0\.1:8251'
out=$(troute /dbsx)
rc=$?
assert_match "--test-route: /dbsx is not /dbs (segment boundary)" "$out" 'no route matches'
assert_eq "--test-route: no match exits 1" 1 "$rc"

# The tool and the proxy agree (query string, dot segments, %-escapes).
start_backend E
start_backend P
cat >"$WORK/agree.yaml" <<EOF
workers: 1
listen:
  - address: 127.0.0.1:$(free_port)
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: ^/exact$
    auth: none
    backends: [$(be_url E)]
  - path: /dbs/
    auth: none
    backends: [$(be_url P)]
  - path: ^/couchdb
    rewrite: {from: "^/couchdb(.*)\$", to: "\$1"}
    auth: none
    backends: [$(be_url E)]
log: {access: off}
EOF
PX_PORT=$(awk -F: '/address: 127/ { print $NF; exit }' "$WORK/agree.yaml")
start_proxy "$WORK/agree.yaml"
for p in '/exact?a=1' '/x/../dbs/a' '/dbs/./a?b=/exact' '/exact'; do
	served=$(gcurl --path-as-is -o /dev/null -D - "$(px_url)$p" |
	    awk -F': *' 'tolower($1) == "x-backend-id" { sub(/\r$/, "", $2); print $2 }')
	tool=$(troute "$p" "$WORK/agree.yaml" | awk '/^backends:/ { print $2 }')
	case $tool in
	"$(be_url E)") tool=E ;;
	"$(be_url P)") tool=P ;;
	*) tool="no route" ;;
	esac
	assert_eq "--test-route '$p' names the backend the proxy uses" "${served:-no route}" "$tool"
done
# The importer's rewrite for {"old_path": "/couchdb", "new_path": ""}: the
# backend must still get a valid request target ("/", as APS sends).
for p in /couchdb '/couchdb?x=1'; do
	t=$(gcurl "$(px_url)$p" | jq -r .target 2>/dev/null)
	assert_match "rewrite to an empty path: '$p' reaches the backend with a target starting with /" \
	    "$t" '^/'
done
stop_proxy

# ------------------------------------------------------------------ --import-aps
timeout 10 "$GF" --import-aps "$APS" >"$WORK/aps.yaml" 2>"$WORK/aps.err"
assert_eq "--import-aps exits 0" 0 "$?"
python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert isinstance(d["routes"], list)' \
    "$WORK/aps.yaml" 2>"$WORK/aps.parse"
assert_eq "--import-aps output parses as YAML with routes" "" "$(cat "$WORK/aps.parse")"
out=$(python3 - "$WORK/aps.yaml" <<'EOF' 2>&1
import re, sys, yaml
text = open(sys.argv[1]).read()
d = yaml.safe_load(text)
def check(desc, got, want):
    print("%s %s%s" % ("ok" if got == want else "FAIL", desc,
          "" if got == want else ": got %r, want %r" % (got, want)))
r = d["routes"]
check("9 of the 9 rules imported", len(r), 9)
check("ingress[7] (https) is a live route", r[7]["path"] if len(r) > 7 else None,
      "^/exitcodes")
check("ingress[7] keeps its https backend",
      r[7]["backends"] if len(r) > 7 else None, ["https://exitcodes.monitoring:9201"])
check("ingress[7] sends the service host", r[7].get("host_header") if len(r) > 7 else None,
      "backend")
check("upstream.tls.ca written (no rootCAs: the grid CA directory)",
      (d.get("upstream") or {}).get("tls"), {"ca": "/etc/grid-security/certificates"})
check("a TODO says to check the backend CA and client certificate",
      len(re.findall(r"(?m)^  # TODO: https backends: .*upstream\.tls\.ca.*"
                     r"upstream\.tls\.certificate/key", text)), 1)
check("no rule left out", re.search(r"left out", text), None)
m = re.search(r"(?m)^# (\d+) route\(s\) imported, (\d+) TODO\(s\)$", text)
check("closing line: 9 routes, 1 TODO (the upstream.tls one)",
      m.groups() if m else None, ("9", "1"))
check("the TODO count is honest", len(re.findall(r"(?m)^\s*# TODO", text)), 1)
EOF
)
while IFS= read -r line; do
	case $line in
	ok\ *) pass "--import-aps: ${line#ok }" ;;
	*) fail "--import-aps: ${line#FAIL }" ;;
	esac
done <<<"$out"
# Host names are resolved at load: map each to a loopback address, the
# https one to a TLS backend with the test PKI's server certificate
# (127.0.0.1 in its names, signed by the CA upstream.tls.ca becomes), and
# point the files at the test PKI.
start_backend X --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key"
APS_PORT=$(free_port)
python3 - "$WORK/aps.yaml" "$WORK/aps-local.yaml" "$PKI" "$APS_PORT" \
    "${BE_PORT[X]}" <<'EOF'
import re, sys
src, dst, pki, port, tport = sys.argv[1:6]
t = open(src).read()
t = re.sub(r"https://[A-Za-z0-9.-]+:[0-9]+", "https://127.0.0.1:" + tport, t)
t = t.replace("workers: auto", "workers: 1")
hosts = {}
def sub(m):
    h = m.group(1)
    if h not in hosts:
        hosts[h] = "127.0.0.%d" % (len(hosts) + 2)
    return "http://%s:" % hosts[h]
t = re.sub(r"http://([A-Za-z0-9.-]+):", sub, t)
for a, b in (("/etc/grid-security/hostcert.pem", pki + "/server.pem"),
             ("/etc/grid-security/hostkey.pem", pki + "/server.key"),
             ("/etc/grid-security/certificates", pki + "/certificates"),
             ("/etc/grid-security/vomsdir", pki + "/vomsdir"),
             ("/data/cric/users.json", pki + "/users.json"),
             ("/etc/hmac/hmac", pki + "/hmac.key"),
             ("0.0.0.0:8443", "127.0.0.1:" + port)):
    t = t.replace(a, b)
open(dst, "w").write(t)
EOF
out=$(timeout 20 "$GF" -t -c "$WORK/aps-local.yaml" 2>&1)
rc=$?
assert_eq "--import-aps output (hosts and files replaced) passes gridfront -t" 0 "$rc"
[ "$rc" = 0 ] || note "$out"
# ... and serves the https ingress through the TLS backend, verified.
PX_PORT=$APS_PORT
start_proxy "$WORK/aps-local.yaml"
hdrs=$(gcurl --cert "$PKI/creds/alice.pem" -o /dev/null -D - "$(px_url)/exitcodes/summary")
assert_match "--import-aps: the https ingress is served (200)" "$hdrs" '^HTTP/1\.1 200'
assert_eq "--import-aps: ... by the TLS backend" X \
    "$(awk -F': *' 'tolower($1) == "x-backend-id" { sub(/\r$/, "", $2); print $2 }' <<<"$hdrs")"
stop_proxy

# The APS semantics table: what the Go frontend does, modelled here from
# its documented behaviour (rules in order, first match; a path with any
# of ". * ^ $" is an unanchored Go regexp, else a character-wise prefix; a
# rule path ending in "/" also matches the path with "/" appended; strict
# accepts the rule path plus at most one more segment; old_path -> new_path
# replaces the first occurrence, an empty result becoming "/").
python3 - "$APS" >"$WORK/aps-model.txt" <<'EOF'
import json, re, sys
rules = json.load(open(sys.argv[1]))["ingress"]
paths = ["/dbs/prod/global/DBSReader/datasets", "/dbs/prod/global/DBSReaderX",
         "/dbs/int/global/DBSWriter/blocks", "/dbs",
         "/couchdb/wmstats/_design/WMStats/_view/byUser",
         "/couchdb/wmstats/_design/WMStats/_view/",
         "/x/couchdb/wmstats/_design/WMStats/_view/a",
         "/couchdb/_all_dbs", "/couchdb/", "/couchdb",
         "/reqmgr2", "/reqmgr2/", "/reqmgr2/data", "/reqmgr2/data/request",
         "/crabserver/prod/info", "/api/crabserver/dev/info",
         "/crabserver/prod/info/x", "/t0_reqmon/data/123",
         "/das/services", "/dasgoclient", "/exitcodes", "/exitcodes/summary",
         "/unknown"]
def route(path):
    for i, r in enumerate(rules):
        p = r["path"]
        u = path
        if p.endswith("/") and not u.endswith("/"):
            u += "/"
        if any(c in p for c in ".*^$"):
            hit = re.search(p, u) is not None
        else:
            hit = u.startswith(p)
        if r.get("strict"):
            if not hit:
                continue
            rest = u.replace(p, "")
            if rest.startswith("/"):
                rest = rest[1:]
            if "/" in rest:
                continue
        elif not hit and u != p:
            continue
        up = path
        if r.get("old_path"):
            up = up.replace(r["old_path"], r.get("new_path", ""), 1) or "/"
        return str(i), up
    return "-", "-"
for p in paths:
    i, up = route(p)
    print("%s\t%s\t%s" % (p, i, up))
EOF
# ingress index of each live route, from the "# ingress[i]" comments.
awk '/^  # ingress\[[0-9]+\]/ { i = $2; gsub(/[^0-9]/, "", i) }
     /^  - path: / { print i }' "$WORK/aps-local.yaml" >"$WORK/aps-index.txt"
while IFS=$'\t' read -r p want_i want_up; do
	out=$(troute "$p" "$WORK/aps-local.yaml")
	n=$(awk '/^route:/ { sub(/^#/, "", $2); print $2; exit }' <<<"$out")
	if [ -n "$n" ]; then
		got_i=$(sed -n "${n}p" "$WORK/aps-index.txt")
		got_up=$(awk '/^upstream:/ { print $2; exit }' <<<"$out")
		[ -n "$got_up" ] || got_up="(empty)"
	else
		got_i=- got_up=-
	fi
	assert_eq "APS semantics: $p -> rule $want_i, upstream $want_up" \
	    "$want_i $want_up" "$got_i $got_up"
done <"$WORK/aps-model.txt"

# ------------------------------------------------------------------ hmac_key
cat >"$WORK/nokey.yaml" <<EOF
listen:
  - address: 127.0.0.1:$(free_port)
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: /
    backends: [http://127.0.0.1:9]
auth:
  ca_path: $PKI/certificates
  users: $PKI/users.json
  hmac_key: $WORK/no-such-hmac.key
log: {access: off}
EOF
out=$(timeout 20 "$GF" -t -c "$WORK/nokey.yaml" 2>&1)
assert_eq "hmac_key missing: -t fails" 1 "$?"
assert_match "hmac_key missing: the message names the key file" "$out" 'no-such-hmac\.key'
assert_match "hmac_key missing: the message says what is wrong" "$out" \
    '([Nn]o such file|missing|cannot (open|read)|does not exist)'
: >"$WORK/empty-hmac.key"
chmod 0600 "$WORK/empty-hmac.key"
sed "s|$WORK/no-such-hmac.key|$WORK/empty-hmac.key|" "$WORK/nokey.yaml" >"$WORK/emptykey.yaml"
out=$(timeout 20 "$GF" -t -c "$WORK/emptykey.yaml" 2>&1)
assert_eq "hmac_key empty: -t fails" 1 "$?"
assert_match "hmac_key empty: the message says the key file is empty" "$out" 'empty-hmac\.key.*empty|empty.*empty-hmac\.key'
for c in nokey emptykey; do
	timeout 10 "$GF" -c "$WORK/$c.yaml" >"$WORK/$c.out" 2>"$WORK/$c.err"
	rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && ! grep -q 'gridfront: ready' "$WORK/$c.err"; then
		pass "hmac_key $c: the proxy refuses to start (exit $rc)"
	else
		fail "hmac_key $c: the proxy refuses to start" "exit $rc: $(head -n 3 "$WORK/$c.err")"
	fi
	assert_match "hmac_key $c: ... and says why" "$(cat "$WORK/$c.err")" 'hmac|key'
done

# ------------------------------------------------------------------ make install
I=$WORK/inst
if timeout 300 make -s -C "$ROOT" install DESTDIR="$I" PREFIX=/usr >"$WORK/install.log" 2>&1; then
	pass "make install DESTDIR PREFIX=/usr"
else fail "make install DESTDIR PREFIX=/usr" "$(tail -n 5 "$WORK/install.log")"; fi
for f in usr/sbin/gridfront lib/systemd/system/gridfront.service \
    etc/logrotate.d/gridfront usr/share/doc/gridfront/gridfront.yaml.example \
    etc/gridfront/gridfront.yaml; do
	if [ -s "$I/$f" ]; then pass "installed /$f"; else fail "installed /$f"; fi
done
if [ -x "$I/usr/sbin/gridfront" ] && [[ "$("$I/usr/sbin/gridfront" --version)" == gridfront\ * ]]; then
	pass "installed binary runs"
else fail "installed binary runs"; fi
assert_eq "installed example config is the commented production example" "" \
    "$(cmp "$EX" "$I/usr/share/doc/gridfront/gridfront.yaml.example" 2>&1)"
assert_eq "installed example config loads (--routes)" 0 \
    "$(timeout 10 "$I/usr/sbin/gridfront" --routes -c "$I/etc/gridfront/gridfront.yaml" >/dev/null 2>&1; echo $?)"
unit=$I/lib/systemd/system/gridfront.service
assert_match "unit: Type=notify" "$(cat "$unit")" $'\nType=notify\n'
assert_match "unit: ExecStart uses the installed binary" "$(cat "$unit")" \
    $'\nExecStart=/usr/sbin/gridfront -c /etc/gridfront/gridfront\\.yaml\n'
assert_match "unit: reload is SIGHUP" "$(cat "$unit")" $'\nExecReload=/bin/kill -HUP \\$MAINPID\n'
assert_match "logrotate: SIGUSR1 after rotation" "$(cat "$I/etc/logrotate.d/gridfront")" 'USR1'
if command -v logrotate >/dev/null; then
	printf 'include %s\n' "$I/etc/logrotate.d" >"$WORK/lr.conf"
	if logrotate -d -s "$WORK/lr.state" "$WORK/lr.conf" >"$WORK/lr.out" 2>&1 &&
	    ! grep -qiE 'error|unknown' "$WORK/lr.out"; then
		pass "logrotate -d accepts the snippet"
	else fail "logrotate -d accepts the snippet" "$(grep -iE 'error|unknown' "$WORK/lr.out" | head -n 3)"; fi
else
	note "logrotate not installed: snippet syntax not checked"
fi
if command -v systemd-analyze >/dev/null; then
	# The unit names /usr/sbin/gridfront, which exists only under DESTDIR
	# here: verify a copy pointing at the installed binary.
	sed "s|/usr/sbin/gridfront|$I/usr/sbin/gridfront|g" "$unit" >"$WORK/gridfront.service"
	if out=$(timeout 60 systemd-analyze --man=no verify "$WORK/gridfront.service" 2>&1); then
		pass "systemd-analyze verify accepts the unit"
	else fail "systemd-analyze verify accepts the unit" "$out"; fi
else
	note "systemd-analyze not available: unit not verified (skipped)"
fi
I2=$WORK/inst2
timeout 300 make -s -C "$ROOT" install DESTDIR="$I2" PREFIX=/opt/gridfront >"$WORK/install2.log" 2>&1
assert_true "make install PREFIX=/opt/gridfront puts the binary there" test -x "$I2/opt/gridfront/sbin/gridfront"
assert_eq "PREFIX=/opt/gridfront: the unit's commands use it" "" \
    "$(grep -E '^Exec(Start|StartPre)=' "$I2/lib/systemd/system/gridfront.service" | grep -v '=/opt/gridfront/sbin/gridfront ')"

# ------------------------------------------------------------------ sd_notify
PX_PORT=
std_conf "$WORK/notify.yaml" "$(route / E)" "log: {access: off}"
python3 - "$WORK/notify.sock" "$WORK/notify.txt" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
end = time.time() + 20
with open(sys.argv[2], "w") as out:
    while time.time() < end:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            continue
        out.write(m.replace("\n", " ") + "\n")
        out.flush()
        if "STOPPING=1" in m:
            break
EOF
npid=$!
PIDS+=("$npid")
wait_until 5 test -S "$WORK/notify.sock" || fail "notify socket created"
NOTIFY_SOCKET=$WORK/notify.sock start_proxy "$WORK/notify.yaml"
wait_until 3 grep -q 'READY=1' "$WORK/notify.txt"
assert_contains "sd_notify: READY=1 once serving" "$(cat "$WORK/notify.txt" 2>/dev/null)" "READY=1"
kill -HUP "$PX_PID"
wait_until 3 bash -c "[ \$(grep -c 'READY=1' '$WORK/notify.txt') -ge 2 ]"
assert_match "sd_notify: RELOADING=1 then READY=1 on SIGHUP" \
    "$(tr '\n' '|' <"$WORK/notify.txt")" 'READY=1.*\|RELOADING=1.*\|READY=1'
stop_proxy
wait_until 3 grep -q 'STOPPING=1' "$WORK/notify.txt"
assert_contains "sd_notify: STOPPING=1 on SIGTERM" "$(cat "$WORK/notify.txt")" "STOPPING=1"
wait "$npid" 2>/dev/null

finish
