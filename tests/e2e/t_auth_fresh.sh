#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Identity freshness on long connections and resumed sessions (issue 17,
# item 2).  An identity is good until the earliest of its certificates'
# notAfter, its VOMS ACs' notAfter plus the VOMS clock skew (5 min), and
# the nextUpdate of the CRLs of its chain; after that the next request on
# a keep-alive connection, and any resumed TLS session, verifies the chain
# again.  Before the fix a keep-alive connection kept its FQANs after the
# AC ran out, and keep-alive connections and TLS 1.2 session-ID
# resumptions kept getting 200 after the CRL passed its nextUpdate.
#
# Windows of seconds, not minutes: the CRL of the intermediate CA is
# re-issued (python3-cryptography) with nextUpdate 30 s ahead into a
# private copy of the CA directory, and a VOMS proxy is made with an AC
# whose notAfter lies 5 min - 15 s in the past (voms-proxy-fake -pastac),
# so that notAfter + skew is 15 s ahead.  fresh_client.py then uses
# connections and sessions opened before, after each deadline (see its
# header for the steps).

T_STEP=${T_STEP:-60}
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || die "python3 is not installed"
python3 -c 'import cryptography' 2>/dev/null ||
    die "python3-cryptography is not installed"
command -v voms-proxy-fake >/dev/null || die "voms-proxy-fake is not installed"
need_bins
pki_init

W_AC=15		# seconds until the AC's notAfter + VOMS skew
W_CRL=30	# seconds until the CRL's nextUpdate
SKEW=300	# auth/voms.h VOMS_SKEW

start_backend echo
BE=$(be_url echo)
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"

# A private CA directory whose intermediate CRL runs out W_CRL s from now.
cp -a "$PKI/certificates" "$WORK/certs"
h=$(openssl x509 -hash -noout -in "$PKI/keys/int.pem")
t_crl=$(date +%s)
python3 - "$PKI/keys/int.pem" "$PKI/keys/int.key" "$PKI/keys/revoked.pem" \
    "$WORK/certs/$h.r0" "$t_crl" "$W_CRL" <<'EOF' || die "cannot make the CRL"
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
ca = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
rev = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read())
t = datetime.datetime.fromtimestamp(int(sys.argv[5]), datetime.timezone.utc)
crl = (x509.CertificateRevocationListBuilder()
       .issuer_name(ca.subject)
       .last_update(t - datetime.timedelta(minutes=1))
       .next_update(t + datetime.timedelta(seconds=int(sys.argv[6])))
       .add_revoked_certificate(x509.RevokedCertificateBuilder()
           .serial_number(rev.serial_number)
           .revocation_date(t - datetime.timedelta(hours=1)).build())
       .add_extension(x509.CRLNumber(5000), critical=False)
       .sign(key, hashes.SHA256()))
open(sys.argv[4], "wb").write(crl.public_bytes(serialization.Encoding.PEM))
EOF
CRL_DEADLINE=$((t_crl + W_CRL + 2))

PX_PORT=$(free_port)
cat >"$WORK/fresh.yaml" <<EOF
workers: 1
listen:
  - address: 127.0.0.1:$PX_PORT
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: /voms/
    require_fqan: [/cms/Role=production]
    backends: [$BE]
  - path: /cert/
    backends: [$BE]
auth:
  ca_path: $WORK/certs
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  hmac_key: $WORK/hmac.key
log: {access: "off"}
EOF
start_proxy "$WORK/fresh.yaml"

# A VOMS proxy of alice whose AC (1 h) started 1 h + SKEW - W_AC s ago.
t0=$(date +%s)
voms-proxy-fake -q -cert "$PKI/keys/alice.pem" -key "$PKI/keys/alice.key" \
    -hostcert "$PKI/keys/vomshost.pem" -hostkey "$PKI/keys/vomshost.key" \
    -voms cms -uri voms.test.example:15002 \
    -fqan /cms/Role=production/Capability=NULL \
    -certdir "$PKI/certificates" -rfc -bits 2048 -hours 2 \
    -vomslife 1 -pastac $((3600 + SKEW - W_AC)) \
    -out "$WORK/ac.vpf" >"$WORK/vpf.log" 2>&1 ||
    { cat "$WORK/vpf.log"; die "voms-proxy-fake failed"; }
t1=$(date +%s)
{
	openssl x509 -in "$WORK/ac.vpf"
	openssl pkey -in "$WORK/ac.vpf"
	cat "$PKI/keys/alice.pem" "$PKI/keys/int.pem"
} >"$WORK/ac-cred.pem" 2>/dev/null
chmod 600 "$WORK/ac-cred.pem"
# The AC's notBefore was taken between t0 and t1.
AC_DEADLINE=$((t1 + W_AC + 2))
[ $((t1 - t0)) -lt $((W_AC - 4)) ] ||
    die "voms-proxy-fake took $((t1 - t0)) s; the AC window is $W_AC s"

timeout 90 python3 "$E2E_DIR/fresh_client.py" --port "$PX_PORT" \
    --cafile "$PKI/ca-bundle.pem" --cred "$PKI/creds/alice.pem" \
    --ac-cred "$WORK/ac-cred.pem" --path /cert/x --fqan-path /voms/x \
    --ac-deadline "$AC_DEADLINE" --crl-deadline "$CRL_DEADLINE" \
    >"$WORK/fresh.out" 2>"$WORK/fresh.err"
rc=$?
assert_eq "fresh_client.py ran to its end" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/# client: /' "$WORK/fresh.err"
ready=$(awk '/^READY/{print $2}' "$WORK/fresh.out")
note "set-up done at +$((${ready:-0} - t1)) s of the AC window ($W_AC s)"
assert_le "set-up done before the AC deadline (else the machine is too slow)" \
    "${ready:-999999999999}" $((t0 + W_AC - 1))

# got STEP: "<status> reused=<n>" of one step.
got() { awk -v s="$1" '$1 == "STEP" && $2 == s { print $3, $4 }' "$WORK/fresh.out"; }
body() { awk -v s="$1" '$1 == "BODY" && $2 == s { $1 = $2 = ""; print }' "$WORK/fresh.out"; }

# Before the deadlines: everything is served, sessions resume.
assert_eq "AC valid: keep-alive request on the require_fqan route" "200 reused=0" "$(got ac-ka-1)"
assert_eq "CRL valid: keep-alive request" "200 reused=0" "$(got ka-1)"
assert_eq "CRL valid: TLS 1.2 full handshake (no tickets)" "200 reused=0" "$(got sid-1)"
assert_eq "CRL valid: TLS 1.2 full handshake (tickets)" "200 reused=0" "$(got tkt-1)"
assert_eq "CRL valid: TLS 1.2 session-ID resumption" "200 reused=1" "$(got sid-resume-0)"
assert_eq "CRL valid: TLS 1.2 ticket resumption" "200 reused=1" "$(got tkt-resume-0)"

# After the AC's notAfter + skew: the same connection loses its FQANs.
assert_eq "AC expired: the same keep-alive connection gets 403 on require_fqan" \
    "403 reused=0" "$(got ac-ka-2)"
assert_contains "... because the VOMS role is gone" "$(body ac-ka-2)" \
    "missing required VOMS role"
assert_eq "AC expired: the certificate alone still serves a route without require_fqan" \
    "200 reused=0" "$(got ac-ka-3)"

# After the CRL's nextUpdate: every path to the identity is refused.
for s in ka-2 sid-resume-1 tkt-resume-1 new-1; do
	r=$(got "$s")
	assert_eq "CRL past nextUpdate: $s gets 403" 403 "${r%% *}"
	assert_contains "CRL past nextUpdate: $s names the CRL" "$(body "$s")" \
	    "CRL missing or expired"
done
note "session-ID resumption after the CRL deadline: $(got sid-resume-1)"

stop_proxy
assert_eq "proxy exits 0 on SIGTERM" 0 "$?"

# ------------------------------------------------------------------ max_connection_age
# Two requests 1.5 s apart on one connection: with max_connection_age 1s
# the second answer closes the connection; without it, it stays open.
cat >"$WORK/age.py" <<'PY'
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(sys.argv[2])
ctx.check_hostname = False
ctx.load_cert_chain(sys.argv[3])
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])),
                                             timeout=10))
def head():
    t.sendall(b"GET /cert/age HTTP/1.1\r\nHost: a\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        b = t.recv(16384)
        if not b:
            return "EOF"
        data += b
    h = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    return h.split(" ")[1] + (" close" if "connection: close" in h else " open")
print(head())
time.sleep(1.5)
print(head())
PY
age_run() {
	timeout 30 python3 "$WORK/age.py" "$PX_PORT" "$PKI/ca-bundle.pem" \
	    "$PKI/creds/alice.pem" 2>&1 | tr '\n' ' ' | sed 's/ $//'
}
PX_PORT=$(free_port)
sed -e "s|^  ca_path: .*|  ca_path: $PKI/certificates|" \
    -e "s|address: 127\.0\.0\.1:[0-9]*|address: 127.0.0.1:$PX_PORT|" "$WORK/fresh.yaml" \
    >"$WORK/age0.yaml"
{ cat "$WORK/age0.yaml"; printf 'timeouts: {max_connection_age: 1s}\n'; } \
    >"$WORK/age1.yaml"
start_proxy "$WORK/age0.yaml"
assert_eq "no max_connection_age: both answers keep the connection open" \
    "200 open 200 open" "$(age_run)"
stop_proxy
start_proxy "$WORK/age1.yaml"
assert_eq "max_connection_age 1s: the answer after 1.5 s closes the connection" \
    "200 open 200 close" "$(age_run)"
stop_proxy
assert_eq "proxy exits 0 on SIGTERM" 0 "$?"
finish
