#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# TLS to backends (issue 13): https:// backends are verified against
# upstream.tls.ca, by name (the URL host, an address literal, or the
# route's tls_server_name), with SNI for names only; a refused certificate
# is a 502 with the reason in the error log and a metric, never an
# unverified fallback; a backend that requires a client certificate gets
# upstream.tls.certificate; sessions are resumed and keep-alive
# connections pooled; a changed CA file is reloaded, and pooled
# connections verified under the old one are not reused; bad upstream.tls
# settings are refused by -t with file:line:col.  The TLS backends are
# tests/e2e/backend.c with --tls-cert, counting handshakes, resumed ones,
# client certificates and SNI in /__stats.  Its own CA is made here.

. "$(dirname "$0")/lib.sh"
need_bins
pki_init
command -v openssl >/dev/null || die "openssl is not installed"

UP=$WORK/up
mkdir -p "$UP"
# mkca NAME: a self-signed P-256 CA.
mkca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$UP/$1.key" -out "$UP/$1.pem" -days 2 -subj "/CN=$1" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1
}
# mkleaf NAME CA SAN EKU: a leaf signed by CA.
mkleaf() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$UP/$1.key" -out "$UP/$1.csr" -subj "/CN=$1" \
	    >/dev/null 2>&1 &&
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' \
	    "$3" "$4" >"$UP/$1.ext" &&
	openssl x509 -req -in "$UP/$1.csr" -CA "$UP/$2.pem" \
	    -CAkey "$UP/$2.key" -CAcreateserial -out "$UP/$1.pem" -days 2 \
	    -extfile "$UP/$1.ext" >/dev/null 2>&1
}
mkca upca && mkca otherca || die "cannot make the test CAs"
mkleaf be upca "DNS:localhost,IP:127.0.0.1" serverAuth &&
mkleaf be2 upca "DNS:backend.test" serverAuth &&
mkleaf client upca "DNS:gridfront.test" clientAuth ||
    die "cannot make the test certificates"

tlsbe() { start_backend "$1" --tls-cert "$UP/$2.pem" --tls-key "$UP/$2.key" \
    "${@:3}"; }
tlsbe tls be
tlsbe tls2 be2
tlsbe mtls be --tls-client-ca "$UP/upca.pem"
tlsbe once be --max-requests 1
tlsbe pool be
start_backend plain
start_backend hang --mode hang

# tbe NAME PATH: ask a TLS backend directly (these connections count in
# its TLS numbers: one handshake, with a client certificate and SNI).
tbe() {
	local n=localhost
	[ "$1" = tls2 ] && n=backend.test
	curl -s --max-time 5 --cacert "$UP/upca.pem" --cert "$UP/client.pem" \
	    --key "$UP/client.key" --resolve "$n:${BE_PORT[$1]}:127.0.0.1" \
	    "https://$n:${BE_PORT[$1]}$2"
}
tstat() { tbe "$1" /__stats | jq -r ".$2"; }
treset() { tbe "$1" /__reset >/dev/null; }

ADMIN_PORT=$(free_port)
# metric NAME: the sum of a counter over its series ("0" when none).
metric() {
	curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
	    awk -v n="$1" 'index($1, n "{") == 1 || $1 == n { s += $2 }
	    END { print s + 0 }'
}
hroute() {	# PATH URL [extra YAML line]
	printf '  - path: "%s"\n    auth: none\n    backends: [%s]\n' "$1" "$2"
	[ $# -ge 3 ] && printf '    %s\n' "$3"
	return 0
}
P() { echo "${BE_PORT[$1]}"; }
# has DESC NEEDLE HAYSTACK
has() { assert_contains "$1" "$3" "$2"; }

routes="$(hroute /ok "https://localhost:$(P tls)")
$(hroute /ip "https://127.0.0.1:$(P tls)")
$(hroute /wrongname "https://127.0.0.1:$(P tls2)")
$(hroute /override "https://127.0.0.1:$(P tls2)" "tls_server_name: backend.test")
$(hroute /mtls "https://localhost:$(P mtls)")
$(hroute /once "https://localhost:$(P once)")
$(hroute /pool "https://localhost:$(P pool)")
$(hroute /plain "$(be_url plain)")
$(hroute /hang "https://127.0.0.1:$(P hang)")"
std_conf "$WORK/a.yaml" "$routes" "upstream:
  down_time: 100ms
  tls:
    ca: $UP/upca.pem
    certificate: $UP/client.pem
    key: $UP/client.key
admin: {address: 127.0.0.1:$ADMIN_PORT}"
start_proxy "$WORK/a.yaml"
U=$(px_url)

# --- verified by name, by address; SNI only for names ---------------------
treset tls
assert_status "https backend, verified by host name" 200 "$U/ok/x"
has "the backend got the request" '"target":"/ok/y"' \
    "$(gcurl "$U/ok/y")"
# tstat's own handshakes send SNI too: each adds one.
assert_eq "SNI is the URL host" localhost "$(tstat tls last_sni)"
sni0=$(tstat tls tls_sni)
assert_status "https backend by address, verified by IP SAN" 200 "$U/ip/x"
assert_eq "no SNI for an address literal" "$((sni0 + 1))" \
    "$(tstat tls tls_sni)"
assert_status "plain backends still work beside them" 200 "$U/plain/x"

# --- a name the certificate does not carry: 502, logged, counted --------
body=$(gcurl -w '%{http_code}' "$U/wrongname/x")
has "certificate without the URL's address: 502" "502" "${body: -3}"
has "the 502 says why" "certificate verification failed" "$body"
assert_true "the error log has the verify reason" \
    grep -q "certificate verify failed: IP address mismatch" "$PX_LOG"
assert_ge "verify failures are counted" \
    "$(metric gridfront_upstream_tls_verify_failures_total)" 1
assert_eq "tls2 never got a request" 0 "$(tstat tls2 requests)"

# --- tls_server_name: the name checked and sent --------------------------
treset tls2
assert_status "tls_server_name makes it verify" 200 "$U/override/x"
assert_eq "SNI is tls_server_name" backend.test "$(tstat tls2 last_sni)"

# --- mTLS: the client certificate goes to a backend that requires one ----
treset mtls
assert_status "mTLS backend with upstream.tls.certificate" 200 "$U/mtls/x"
# One from the proxy, one from tbe itself.
assert_ge "the backend saw the proxy's client certificate" \
    "$(tstat mtls tls_client_certs)" 2

# --- pooled keep-alive: many requests, one handshake ---------------------
treset pool
hs0=$(tstat pool tls_handshakes)	# 1: its own
h0=$(metric gridfront_upstream_tls_handshakes_total)
for i in $(seq 1 20); do
	gcurl -o /dev/null "$U/pool/$i" || break
done
hs=$(tstat pool tls_handshakes)
# tstat's own connections add one each: hs0's and this one.
assert_eq "one TLS handshake carried them all" $((hs0 + 2)) "$hs"
assert_eq "20 requests reached the pooled backend" 20 \
    "$(tstat pool requests)"
assert_eq "over one backend connection" 1 "$(tstat pool conns)"
assert_eq "the proxy counts one handshake" $((h0 + 1)) \
    "$(metric gridfront_upstream_tls_handshakes_total)"

# --- resumption: a backend that closes after each request ---------------
treset once
r0=$(metric gridfront_upstream_tls_resumed_total)
for i in 1 2 3 4 5 6; do
	gcurl -o /dev/null "$U/once/$i" || break
done
assert_eq "six connections, six handshakes (and tstat's)" 7 \
    "$(tstat once tls_handshakes)"
assert_ge "the backend resumed at least five of them" \
    "$(tstat once tls_resumed)" 5
assert_ge "the proxy counts them as resumed" \
    "$(metric gridfront_upstream_tls_resumed_total)" $((r0 + 5))

# --- a reload that leaves upstream.tls alone keeps the pooled connections
gens() { grep -c "configuration generation .* in force" "$PX_LOG"; }
g0=$(gens)
kill -HUP "$PX_PID"
reloaded() { [ "$(gens)" -gt "$g0" ]; }
wait_until 10 reloaded && pass "SIGHUP reloads" || fail "SIGHUP reloads"
for i in 1 2 3; do
	gcurl -o /dev/null "$U/pool/after-hup-$i" || break
done
assert_eq "the pooled backend connection survived the reload" 1 \
    "$(tstat pool conns)"
assert_eq "23 requests on it" 23 "$(tstat pool requests)"
stop_proxy

# --- mTLS backend without a client certificate: 502 ----------------------
std_conf "$WORK/b.yaml" "$routes" "upstream:
  down_time: 100ms
  tls: {ca: $UP/upca.pem}
timeouts:
  upstream_connect: 1s
admin: {address: 127.0.0.1:$ADMIN_PORT}"
start_proxy "$WORK/b.yaml"
assert_status "mTLS backend, no client certificate: 502" 502 "$U/mtls/x"
assert_true "the backend's alert is logged" \
    grep -q "backend https://localhost:$(P mtls): TLS: .*alert" "$PX_LOG"
assert_status "the other backends are unaffected" 200 "$U/ok/x"
assert_ge "the alert is counted as a TLS error" \
    "$(metric gridfront_upstream_tls_errors_total)" 1
# The handshake is bounded by the connect timeout: a backend that takes
# the connection and never answers the ClientHello.
t0=$(now_ms)
assert_status "a backend that never completes the handshake: 504" 504 \
    "$U/hang/x"
t1=$(now_ms)
assert_le "after upstream_connect (1s), not upstream_response" \
    $((t1 - t0)) 4000
assert_true "logged as a connect timeout" \
    grep -q "backend https://127.0.0.1:$(P hang): backend connect timeout" \
    "$PX_LOG"
stop_proxy

# --- wrong CA, then the CA file is replaced (and replaced back) ----------
cp "$UP/otherca.pem" "$WORK/ca-live.pem"
std_conf "$WORK/c.yaml" "$routes" "upstream:
  down_time: 100ms
  tls: {ca: $WORK/ca-live.pem}
auth:
  reload_interval: 100ms
admin: {address: 127.0.0.1:$ADMIN_PORT}"
start_proxy "$WORK/c.yaml"
assert_status "a certificate from another CA: 502" 502 "$U/ok/x"
assert_true "the error log has the verify reason" \
    grep -q "certificate verify failed: unable to get local issuer certificate" \
    "$PX_LOG"
assert_ge "and it is counted" \
    "$(metric gridfront_upstream_tls_verify_failures_total)" 1
cp "$UP/upca.pem" "$WORK/ca-live.pem.new" && mv "$WORK/ca-live.pem.new" "$WORK/ca-live.pem"
ok200() { [ "$(gcurl -o /dev/null -w '%{http_code}' "$U/ok/r")" = 200 ]; }
wait_until 10 ok200 && pass "the new CA file is in force within seconds" ||
    fail "the new CA file is in force within seconds"
assert_true "the reload is logged" grep -q "upstream.tls CA, certificate or key reloaded" "$PX_LOG"
# A pooled connection verified under upca now sits idle; once the CA file
# goes back to otherca it must not carry another request.
cp "$UP/otherca.pem" "$WORK/ca-live.pem.new" && mv "$WORK/ca-live.pem.new" "$WORK/ca-live.pem"
reloads2() { [ "$(grep -c "upstream.tls CA, certificate or key reloaded" "$PX_LOG")" -ge 2 ]; }
wait_until 10 reloads2 && pass "the second change is reloaded" ||
    fail "the second change is reloaded"
assert_status "the pooled connection of the old trust is not reused" 502 "$U/ok/x"
stop_proxy

# --- gridfront -t: located errors ----------------------------------------
# t_conf NAME YAML-TAIL: write a config with one https route and the tail.
t_conf() {
	cat >"$WORK/$1.yaml" <<EOF
listen:
  - address: 127.0.0.1:$(free_port)
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: /
    auth: none
    backends: [https://127.0.0.1:$(P tls)]
$2
EOF
}
t_out() { timeout 10 "$GF" -t -c "$WORK/$1.yaml" 2>&1; }
t_conf noca ""
has "https without upstream.tls.ca is refused, located" \
    "$WORK/noca.yaml:7:16: routes[0].backends[0]: 'https://127.0.0.1:$(P tls)' is an https backend: set upstream.tls.ca" \
    "$(t_out noca)"
t_conf missingca "upstream:
  tls:
    ca: $WORK/nonexistent.pem"
has "a missing CA file is located" \
    "$WORK/missingca.yaml:10:9: upstream.tls.ca: '$WORK/nonexistent.pem': No such file or directory" \
    "$(t_out missingca)"
t_conf nokey "upstream:
  tls:
    ca: $UP/upca.pem
    certificate: $UP/client.pem
    key: $WORK/nokey.key"
has "an unreadable key is located" \
    "$WORK/nokey.yaml:12:10: upstream.tls.key: '$WORK/nokey.key': No such file or directory" \
    "$(t_out nokey)"
t_conf badkey "upstream:
  tls:
    ca: $UP/upca.pem
    certificate: $UP/client.pem
    key: $UP/otherca.key"
has "a key that does not match is located" \
    "$WORK/badkey.yaml:12:10: upstream.tls.key: '$UP/otherca.key': cannot load the key" \
    "$(t_out badkey)"
t_conf notaca "upstream:
  tls:
    ca: $UP/be.key"
has "a CA file without certificates is located" \
    "$WORK/notaca.yaml:10:9: upstream.tls.ca: '$UP/be.key': cannot load CA certificates" \
    "$(t_out notaca)"
t_conf halfpair "upstream:
  tls:
    ca: $UP/upca.pem
    certificate: $UP/client.pem"
has "a certificate without a key is refused" \
    "upstream.tls: certificate and key go together" "$(t_out halfpair)"
t_conf cadir "upstream:
  tls:
    ca: /etc/ssl/certs"
has "a hashed CA directory is accepted" "configuration OK" \
    "$(t_out cadir)"
cat >"$WORK/sniplain.yaml" <<EOF
listen:
  - address: 127.0.0.1:$(free_port)
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: /
    auth: none
    backends: [http://127.0.0.1:$(P plain)]
    tls_server_name: backend.test
EOF
has "tls_server_name without an https backend is refused" \
    "routes[0].tls_server_name: has no effect without an https:// backend" \
    "$(t_out sniplain)"

finish
