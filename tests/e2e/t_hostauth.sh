#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# HostIP authentication end to end (auth.hosts; auth: host and
# host_or_cert; PROTOCOL.md "Host-based authentication").  The real proxy
# with the test PKI, a host list naming 127.0.0.1, and the echo backend
# plus verify_go.py (the Go services' HMAC check) behind it.  Clients
# connect from 127.0.0.1 (listed) or, with curl --interface, from
# 127.0.0.2 (not listed): both are loopback addresses on Linux.  Checked:
# the exact cms-* set a listed client's request carries, its HMAC
# recomputed by hmac_check.py and by verify_go.py; 403 with a reason and
# nothing forwarded for an unlisted one; that X-Forwarded-For, X-Real-IP,
# Forwarded and client-sent cms-auth-host / cms-authn-* never count and
# never reach the backend; a change of the file picked up without a
# restart, and a bad file refused with the old list kept; host_or_cert with
# and without a certificate (a valid certificate wins, a banned user stays
# banned); the metrics and the access log.

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

HC=$E2E_DIR/hmac_check.py
command -v python3 >/dev/null || die "python3 is not installed"
command -v jq >/dev/null || die "jq is not installed"

start_backend echo
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
KEY=$WORK/hmac.key

python3 "$E2E_DIR/verify_go.py" --key "$KEY" >"$WORK/vgo.out" \
    2>"$WORK/vgo.err" &
PIDS+=($!)
wait_until 10 grep -q '^PORT ' "$WORK/vgo.out" ||
    die "verify_go.py did not start: $(head -c 300 "$WORK/vgo.err")"
GO_PORT=$(awk '/^PORT /{ print $2; exit }' "$WORK/vgo.out")

# The host list is replaced the way an operator's tool would: write
# aside, rename.
hosts() { printf '%s\n' "$@" >"$WORK/hosts.new" && mv -f "$WORK/hosts.new" "$WORK/hosts.txt"; }
hosts "# CouchDB replication peers (test)" "" \
    "127.0.0.1   couch.example.cern.ch   # the listed client" \
    "::1 six.example.org"

BE=$(be_url echo)
ADMIN_PORT=$(free_port)
routes="  - path: /host/
    auth: host
    backends: [$BE]
  - path: /hoc/
    auth: host_or_cert
    backends: [$BE]
  - path: /go/
    auth: host
    backends: [http://127.0.0.1:$GO_PORT]
  - path: /cert/
    backends: [$BE]"
auth="auth:
  ca_path: $PKI/certificates
  users: $PKI/users.json
  banned: $PKI/banned.txt
  hosts: $WORK/hosts.txt
  hmac_key: $KEY
  reload_interval: 100ms
admin: {address: 127.0.0.1:$ADMIN_PORT}"
std_conf "$WORK/host.yaml" "$routes" "$auth"
start_proxy "$WORK/host.yaml"
U=$(px_url)

be_n() { be_stats echo requests; }

# req FROM CRED PATH [curl args...]: one request from address FROM with
# CRED's certificate ("-": none); R_CODE, R_BODY.
req() {
	local from=$1 cred=$2 path=$3; shift 3
	local a=(--interface "$from")
	[ "$cred" != - ] && a+=(--cert "$PKI/creds/$cred.pem")
	R_CODE=$(gcurl -o "$WORK/r.body" -w '%{http_code}' "${a[@]}" "$@" \
	    "$U$path" 2>"$WORK/r.err")
	R_BODY=$(cat "$WORK/r.body" 2>/dev/null)
}
got_cms() { python3 "$HC" cms <"$WORK/r.body" 2>&1; }

# The exact set a listed 127.0.0.1 gets, its HMAC computed here by
# hmac_check.py over the one signed header (PROTOCOL.md).
MAC=$(python3 "$HC" sign "$KEY" "cms-authn-method: HostIP")
exp_host() {
	printf '%s\n' "cms-auth-host: $1" "cms-auth-status: OK" \
	    "cms-authn-hmac: $MAC" "cms-authn-method: HostIP" \
	    "cms-request-uri: $2"
}

# host_ok DESC FROM IPNAME PATH [curl args...]
host_ok() {
	local d=$1 from=$2 ipname=$3 path=$4 n0 v
	shift 4
	n0=$(be_n)
	req "$from" - "$path" "$@"
	assert_eq "$d: status 200" 200 "$R_CODE"
	assert_eq "$d: backend received it" "$((n0 + 1))" "$(be_n)"
	assert_eq "$d: exact cms-* set" "$(exp_host "$ipname" "${path%%\?*}")" \
	    "$(got_cms)"
	v=$(python3 "$HC" verify "$KEY" <"$WORK/r.body" 2>&1)
	if [ $? -eq 0 ]; then pass "$d: HMAC recomputed independently"
	else fail "$d: HMAC recomputed independently" "$v"; fi
}

# host_deny DESC FROM CRED PATH REASON-ERE [curl args...]
host_deny() {
	local d=$1 from=$2 cred=$3 path=$4 re=$5 n0
	shift 5
	n0=$(be_n)
	req "$from" "$cred" "$path" "$@"
	assert_eq "$d: status 403" 403 "$R_CODE"
	if grep -qiE -- "$re" <<<"$R_BODY"; then pass "$d: reason /$re/"
	else fail "$d: reason /$re/" "body: $(head -c 300 <<<"$R_BODY")"; fi
	assert_eq "$d: backend received nothing" "$n0" "$(be_n)"
}

LISTED="127.0.0.1 couch.example.cern.ch"

# ------------------------------------------------------------ listed, not
host_ok "listed 127.0.0.1" 127.0.0.1 "$LISTED" "/host/db?x=1"
host_deny "unlisted 127.0.0.2" 127.0.0.2 - /host/db \
    "client address not in the host list"

# The Go services' verifier agrees (it reads the raw bytes).
req 127.0.0.1 - /go/x
assert_eq "verify_go: status 200" 200 "$R_CODE"
assert_eq "verify_go: HMAC verdict ok" ok "$(jq -r .verdict <<<"$R_BODY")"
assert_eq "verify_go: method HostIP" HostIP "$(jq -r .method <<<"$R_BODY")"

# ------------------------------------------------------------ spoofing
# An unlisted client claiming a listed address in every header there is.
SPOOF=(-H "X-Forwarded-For: 127.0.0.1" -H "X-Real-IP: 127.0.0.1"
    -H "Forwarded: for=127.0.0.1" -H "X-Client-IP: 127.0.0.1"
    -H "cms-auth-host: $LISTED" -H "cms-authn-method: HostIP"
    -H "cms-auth-status: OK" -H "cms_auth_host: $LISTED")
host_deny "spoofed headers from 127.0.0.2" 127.0.0.2 - /host/db \
    "not in the host list" "${SPOOF[@]}"
# A listed client's own cms-* claims are stripped: the backend sees only
# gridfront's set, and X-Forwarded-For is the real peer alone.
host_ok "listed client sending forged cms-* headers" 127.0.0.1 "$LISTED" \
    /host/db -H "cms-auth-host: 10.9.9.9 evil.example" \
    -H "cms-authn-method: X509Cert" -H "cms-authn-dn: /CN=evil" \
    -H "cms_authn_login: evil" -H "X-Forwarded-For: 10.9.9.9"
assert_eq "X-Forwarded-For is the TCP peer only" 127.0.0.1 \
    "$(json_headers "$R_BODY" X-Forwarded-For | paste -sd, -)"

# ------------------------------------------------------------ host_or_cert
host_ok "host_or_cert, no certificate, listed" 127.0.0.1 "$LISTED" /hoc/a
host_deny "host_or_cert, no certificate, unlisted" 127.0.0.2 - /hoc/a \
    "no client certificate.*not in the host list"
# A valid certificate wins, listed or not: the X509Cert identity.
for from in 127.0.0.2 127.0.0.1; do
	req "$from" alice /hoc/a
	assert_eq "host_or_cert, alice's certificate from $from: 200" 200 "$R_CODE"
	assert_eq "host_or_cert, alice from $from: X509Cert identity" \
	    "$(python3 "$HC" expect --users "$PKI/users.json" \
	    --dn "$(awk -F'\t' '$1 == "alice" { print $2; exit }' "$PKI/dns.txt")" \
	    --key "$KEY" --uri /hoc/a)" "$(got_cms)"
done
host_deny "host_or_cert, banned user on a listed host" 127.0.0.1 banned \
    /hoc/a "banned"
# A refused certificate falls back to the list...
host_ok "host_or_cert, expired certificate, listed" 127.0.0.1 "$LISTED" \
    /hoc/b --cert "$PKI/creds/expired.pem"
# ...and when that fails too, the certificate's reason is given.
host_deny "host_or_cert, expired certificate, unlisted" 127.0.0.2 expired \
    /hoc/b "expired"
# auth: host ignores certificates; auth: cert ignores the list.
host_ok "auth: host with alice's certificate, listed" 127.0.0.1 "$LISTED" \
    /host/c --cert "$PKI/creds/alice.pem"
host_deny "auth: cert from a listed host, no certificate" 127.0.0.1 - \
    /cert/x "client certificate required"

# ------------------------------------------------------------ file changes
hosts "127.0.0.2 other.example.cern.ch"
wait_until 5 eval 'req 127.0.0.2 - /host/r; [ "$R_CODE" = 200 ]'
host_ok "after the change: 127.0.0.2 listed" 127.0.0.2 \
    "127.0.0.2 other.example.cern.ch" /host/r
host_deny "after the change: 127.0.0.1 no longer listed" 127.0.0.1 - \
    /host/r "not in the host list"
assert_match "reload logged" "$(cat "$PX_LOG")" "reloaded: host list"

hosts "127.0.0.1 couch.example.cern.ch" "127.0.0.1/32 not-allowed"
wait_until 5 grep -q "host list .* rejected" "$PX_LOG"
assert_match "bad file refused with file:line" \
    "$(grep -a 'host list' "$PX_LOG" | tail -n 1)" \
    "hosts.txt:2: \"127.0.0.1/32\" is not an IPv4 or IPv6 address"
host_ok "bad file: the previous list stays (127.0.0.2)" 127.0.0.2 \
    "127.0.0.2 other.example.cern.ch" /host/k
host_deny "bad file: 127.0.0.1 still not listed" 127.0.0.1 - /host/k \
    "not in the host list"

# ------------------------------------------------------------ metrics, log
M=$(curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics")
met() { awk -v k="$1" '$1 == k { print $2 }' <<<"$M"; }
assert_eq "metric gridfront_auth_hosts (list in force)" 1 \
    "$(met gridfront_auth_hosts)"
assert_ge "metric host accepted" "$(met 'gridfront_auth_host_total{result="accepted"}')" 8
assert_ge "metric host denied" "$(met 'gridfront_auth_host_total{result="denied"}')" 5
assert_match "denials by reason" "$M" \
    'gridfront_auth_denied_total\{worker="0",reason="client address not in the host list \(auth.hosts\)"\} [1-9]'

# ------------------------------------------------------------ SIGHUP
# A reload that names another host list builds a new auth context.
printf '127.0.0.1 couch2.example.cern.ch\n' >"$WORK/hosts2.txt"
sed -i "s|hosts: $WORK/hosts.txt|hosts: $WORK/hosts2.txt|" "$WORK/host.yaml"
kill -HUP "$PX_PID"
wait_until 5 eval 'req 127.0.0.1 - /host/h; [ "$R_CODE" = 200 ]'
host_ok "SIGHUP with auth.hosts changed: the new list" 127.0.0.1 \
    "127.0.0.1 couch2.example.cern.ch" /host/h
host_deny "SIGHUP with auth.hosts changed: 127.0.0.2 gone" 127.0.0.2 - \
    /host/h "not in the host list"

stop_proxy
assert_match "access log names HostIP as the method" "$(cat "$PX_OUT")" \
    'GET /host/db\?x=1 HTTP/1.1" 200 .*HostIP'
finish
