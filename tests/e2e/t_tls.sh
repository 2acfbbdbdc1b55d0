#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# TLS termination as gridfront sets it (not the system openssl.cnf): TLS
# 1.2 and 1.3 only, no weak ciphers, no client-initiated renegotiation,
# session resumption (tickets or cache) works, a client certificate is
# never required at the handshake, and a broken handshake does not disturb
# other clients.

. "$(dirname "$0")/lib.sh"

start_backend b1
std_conf "$WORK/tls.yaml" "$(route / b1)"
start_proxy "$WORK/tls.yaml"
U=$(px_url)
S="127.0.0.1:$PX_PORT"

# sclient ARGS...: openssl s_client with stdin from $SC_IN, bounded.
sclient() {
	printf '%b' "${SC_IN:-}" | timeout 10 openssl s_client -connect "$S" \
	    -CAfile "$PKI/ca-bundle.pem" -servername localhost "$@" 2>&1
}

out=$(SC_IN='' sclient -tls1_3 </dev/null)
assert_contains "TLS 1.3 accepted" "$out" "TLSv1.3"
out=$(SC_IN='' sclient -tls1_2 </dev/null)
assert_match "TLS 1.2 accepted" "$out" 'Protocol *: TLSv1\.2'
out=$(SC_IN='' sclient -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null)
assert_not_contains "TLS 1.1 refused" "$out" "New, TLSv1.1,"
out=$(SC_IN='' sclient -tls1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null)
assert_not_contains "TLS 1.0 refused" "$out" "New, TLSv1.0,"
for c in NULL aNULL AES128-SHA AES256-GCM-SHA384 ECDHE-RSA-AES128-SHA; do
	out=$(SC_IN='' sclient -tls1_2 -cipher "$c:@SECLEVEL=0" </dev/null)
	if [[ "$out" =~ Cipher\ is\ \(NONE\) || "$out" =~ handshake\ failure || "$out" =~ no\ cipher ]]; then
		pass "weak TLS 1.2 cipher $c refused"
	else
		fail "weak TLS 1.2 cipher $c refused" "$(grep -m1 'Cipher' <<<"$out")"
	fi
done
out=$(SC_IN='' sclient -tls1_2 </dev/null)
assert_match "TLS 1.2 negotiates a forward-secret AEAD suite" "$out" \
    'Cipher is ECDHE-[A-Z0-9-]*(GCM|CHACHA20)'

# A client without a certificate completes the handshake.  (That the
# handshake asks for one belongs to the auth tests, which configure a CA.)
assert_status "no client certificate: handshake still completes (auth: none route)" 200 "$U/x"

# Client-initiated renegotiation is refused (TLS 1.2; 1.3 has none).
out=$( (printf 'GET /a HTTP/1.1\r\nHost: a\r\n\r\n'; sleep 0.5; printf 'R\n'; sleep 1) |
    timeout 10 openssl s_client -connect "$S" -tls1_2 -CAfile "$PKI/ca-bundle.pem" 2>&1)
if [[ "$out" =~ RENEGOTIATING ]] && [[ "$out" =~ (alert|error|errno|no\ renegotiation) ]]; then
	pass "client renegotiation refused"
elif [[ ! "$out" =~ RENEGOTIATING ]]; then
	fail "client renegotiation refused" "s_client did not try: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
else
	fail "client renegotiation refused" "renegotiation seems to have succeeded"
fi

# Session resumption, TLS 1.2 and 1.3.
for v in tls1_2 tls1_3; do
	rm -f "$WORK/sess.$v"
	SC_IN='GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' \
	    sclient "-$v" -sess_out "$WORK/sess.$v" -ign_eof >/dev/null
	out=$(SC_IN='GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' \
	    sclient "-$v" -sess_in "$WORK/sess.$v" -ign_eof)
	assert_contains "session resumption ($v)" "$out" "Reused,"
done

# Garbage instead of a ClientHello: closed, and others are unaffected.
head -c 4096 /dev/urandom | timeout 10 "$RAW" --plain --port "$PX_PORT" \
    --expect-close --timeout-ms 3000 >/dev/null 2>"$WORK/garbage.err"
if grep -qE '^(CLOSED|RESET)$' "$WORK/garbage.err"; then pass "garbage handshake: closed"
else fail "garbage handshake: closed" "$(cat "$WORK/garbage.err")"; fi
assert_status "served after a garbage handshake" 200 "$U/after"

stop_proxy
assert_eq "proxy exits 0" 0 "$?"
finish
