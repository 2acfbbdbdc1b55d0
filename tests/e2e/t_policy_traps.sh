#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Policy traps of issue 17 (item 4), end to end:
#  - require_fqan on an 'auth: optional' route: gridfront -t refuses the
#    config with file:line:col (a client without a certificate would pass);
#  - a CRIC NAME with a trailing space is trimmed, so the backend, which
#    trims header values, can verify the HMAC; a LOGIN with a leading
#    space skips the record (403 not registered); both are logged at
#    start-up;
#  - a ban entry in the legacy X509_NAME_oneline form (\xHH bytes) bans
#    the UTF-8 user it names, with a warning at start-up.
# (Namespaces, dn_match and the trouble-page ban are in t_namespaces.sh,
# the reload retry in tests/ops/t_reload_retry.sh.)

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

HC=$E2E_DIR/hmac_check.py
command -v python3 >/dev/null || die "python3 is not installed"
start_backend echo
BE=$(be_url echo)
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
KEY=$WORK/hmac.key
dn_of() { awk -F'\t' -v c="$1" '$1 == c { print $2; exit }' "$PKI/dns.txt"; }

# ------------------------------------------------ require_fqan + optional
cat >"$WORK/optfqan.yaml" <<EOF
listen:
  - address: 127.0.0.1:$(free_port)
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: /opt/
    auth: optional
    require_fqan: [/cms/Role=production]
    backends: [$BE]
auth:
  ca_path: $PKI/certificates
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  hmac_key: $KEY
EOF
out=$("$GF" -t -c "$WORK/optfqan.yaml" 2>&1)
assert_ne "require_fqan on an optional route: gridfront -t fails" 0 "$?"
assert_contains "... at file:line:col of require_fqan" "$out" \
    "optfqan.yaml:7:19: routes[0].require_fqan: cannot be enforced with 'auth: optional'"

# ------------------------------------------------ CRIC spaces, legacy bans
python3 - "$PKI/users.json" "$WORK/users.json" <<'EOF'
import json, sys
users = json.load(open(sys.argv[1]))
for u in users:
    if u["LOGIN"] == "bob":
        u["NAME"] = u["NAME"] + " "      # trimmed at load
    if u["LOGIN"] == "rsauser":
        u["LOGIN"] = " rsauser"          # the record is skipped
json.dump(users, open(sys.argv[2], "w"), ensure_ascii=False)
EOF
# jmuller's DN the way X509_NAME_oneline() writes it: \xHH per byte.
LEGACY=$(dn_of utf8 | python3 -c 'import sys; s = sys.stdin.read().strip(); print("".join(c if ord(c) < 128 else "".join("\\x%02X" % b for b in c.encode()) for c in s))')
assert_contains "the legacy form has \\xHH escapes" "$LEGACY" '\xC3\xA9'
printf 'dn: %s\n' "$LEGACY" >"$WORK/banned.txt"

PX_PORT=
std_conf "$WORK/traps.yaml" "  - path: /
    backends: [$BE]" "auth:
  ca_path: $PKI/certificates
  users: $WORK/users.json
  banned: $WORK/banned.txt
  hmac_key: $KEY"
start_proxy "$WORK/traps.yaml"
U=$(px_url)

req() {
	R_CODE=$(gcurl -o "$WORK/r.body" -w '%{http_code}' \
	    --cert "$PKI/creds/$1.pem" "$U$2" 2>"$WORK/r.err")
	R_BODY=$(cat "$WORK/r.body" 2>/dev/null)
}

req bob /x
assert_eq "bob (NAME with a trailing space in CRIC): 200" 200 "$R_CODE"
assert_contains "... cms-authn-name is trimmed" "$R_BODY" '"cms-authn-name","Bob Builder"]'
v=$(python3 "$HC" verify "$KEY" <"$WORK/r.body" 2>&1)
if [ $? -eq 0 ]; then pass "... and its HMAC verifies after the backend trimmed values"
else fail "... and its HMAC verifies after the backend trimmed values" "$v"; fi
req rsauser /x
assert_eq "rsauser (LOGIN with a leading space): record skipped, 403" 403 "$R_CODE"
assert_contains "... not registered" "$R_BODY" "not registered in CRIC"
assert_contains "edge spaces are logged at start-up" "$(cat "$PX_LOG")" \
    "3 record(s) with leading or trailing spaces"
req utf8 /x
assert_eq "jmuller, banned in legacy oneline form: 403" 403 "$R_CODE"
assert_contains "... banned" "$R_BODY" "banned"
assert_contains "the legacy ban entry is logged at start-up" "$(cat "$PX_LOG")" \
    "[warn] auth: ban list $WORK/banned.txt: 1 DN(s) in legacy X509_NAME_oneline form"
req alice /x
assert_eq "alice is unaffected: 200" 200 "$R_CODE"
stop_proxy
assert_eq "proxy exits 0" 0 "$?"

finish
