#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Junk client chains must not grow gridfront's memory (issue 17, item 1).
# Anyone can open TLS connections and present a self-signed certificate
# followed by several ~15 KB junk certificates, different every time.
# Before the fix, the verified-chain cache kept every refused chain whole
# (about 190 kB of parsed certificates each) for up to 60 s and dropped
# it only on a later lookup of the same chain: 1,000 such handshakes took
# RSS from 9 MB to 215 MB for good.  Now a refusal is cached by key and
# reason only, the cache is bounded by bytes too, chains longer than
# verify_depth + 1 are refused before any work, and auth.max_cert_list
# bounds what a handshake may carry.  Checked here, with junk_chain.py:
#   - 400 handshakes with 6 junk certificates of 15 kB (max_cert_list
#     raised to 1m so that they all reach verification) all get 403, VmRSS
#     grows by less than RSS_LIMIT_KB and the cache's byte gauge stays
#     small; alice is served meanwhile;
#   - chains of verify_depth + 2 certificates are refused unverified
#     (gridfront_client_chains_too_long_total counts them);
#   - with the default max_cert_list (64k) the same junk chains fail the
#     handshake, while alice's VOMS proxy chain (voms2) still gets in.

. "$(dirname "$0")/../e2e/lib.sh"

FAULTS_DIR=$(cd "$(dirname "$0")" && pwd)
JUNK=$FAULTS_DIR/junk_chain.py
command -v python3 >/dev/null || die "python3 is not installed"
python3 -c 'import cryptography' 2>/dev/null ||
    die "python3-cryptography is not installed"
need_bins
pki_init

N=400				# junk handshakes in the main run
RSS_LIMIT_KB=$((24 * 1024))	# growth allowed over N handshakes
# (Before the fix: about 190 kB per handshake, 70+ MB over N.)

cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
start_backend echo
BE=$(be_url echo)
ADMIN_PORT=$(free_port)

# conf FILE [AUTH-EXTRA]: auth routes, the admin listener, the test PKI.
conf() {
	PX_PORT=$(free_port)
	cat >"$1" <<EOF
workers: 1
listen:
  - address: 127.0.0.1:$PX_PORT
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: /cert/
    backends: [$BE]
auth:
  ca_path: $PKI/certificates
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  hmac_key: $WORK/hmac.key
  reload_interval: 1s
${2:-}
admin:
  address: 127.0.0.1:$ADMIN_PORT
log: {access: "off"}
EOF
}

scrape() { curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics"; }
metric() { scrape | awk -v m="$1" '$1 == m { print $2; exit }'; }
junk() { timeout 300 python3 "$JUNK" --port "$PX_PORT" "$@" 2>&1; }
alice_code() {
	gcurl -o /dev/null -w '%{http_code}' --cert "$PKI/creds/$1.pem" \
	    "$(px_url)/cert/alive" 2>/dev/null
}

# ------------------------------------------------------------------ the attack
conf "$WORK/big.yaml" "  max_cert_list: 1m"
start_proxy "$WORK/big.yaml"

out=$(junk --count 20)
assert_contains "warm-up: 20 junk chains get 403" "$out" "status 403: 20"
base=$(px_rss_kb)
t0=$(now_ms)
out=$(junk --count "$N" --deadline 240)
secs=$((($(now_ms) - t0) / 1000))
now=$(px_rss_kb)
note "$N junk handshakes (6 x 15 kB each) in $secs s: VmRSS $base -> $now kB"
assert_contains "$N junk chains: every one gets 403" "$out" "status 403: $N"
if sanitized; then
	# ASan's quarantine keeps freed memory: only the gauges below count.
	note "RSS bound not checked under ASan ($base -> $now kB)"
else
	assert_le "$N junk chains: VmRSS grows less than $RSS_LIMIT_KB kB ($base -> $now kB)" \
	    $((now - base)) "$RSS_LIMIT_KB"
fi
entries=$(metric gridfront_verify_cache_entries)
bytes=$(metric gridfront_verify_cache_bytes)
note "verify cache after the attack: ${entries:-?} entries, ${bytes:-?} bytes"
assert_le "cache entries: one slim entry per junk chain at most" \
    "${entries:-999999}" $((N + 20))
assert_le "cache bytes: refusals cost well under 1 kB each (${bytes:-?})" \
    "${bytes:-999999999}" $(((N + 20) * 1024))
assert_eq "alice is served after the attack" 200 "$(alice_code alice)"
assert_eq "alice's VOMS proxy chain is served" 200 "$(alice_code voms2)"

# Chains longer than verify_depth + 1 (10 + 1): refused before any work.
out=$(junk --count 10 --junk 11 --size 64)
assert_contains "12-certificate chains: 403" "$out" "status 403: 10"
assert_eq "gridfront_client_chains_too_long_total counts them" 10 \
    "$(metric gridfront_client_chains_too_long_total)"
stop_proxy

# ------------------------------------------------------------------ max_cert_list
conf "$WORK/default.yaml"
start_proxy "$WORK/default.yaml"
out=$(junk --count 10)
assert_contains "default max_cert_list (64k): 92 kB junk chains fail the handshake" \
    "$out" "handshake failed: 10"
assert_eq "default max_cert_list: alice's VOMS proxy chain (voms2) is served" \
    200 "$(alice_code voms2)"
stop_proxy
assert_eq "proxy exits 0 on SIGTERM" 0 "$?"
finish
