#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Hostile HTTP/2 clients (issue 15), built frame by frame by h2hostile.py
# (python3-h2, python3-hyperframe, hpack) over TLS with alice's client
# certificate against the real proxy and the echo backend.  One case per
# item of the issue's lists, and some more (h2hostile.py --list): bad
# fields, names and values, pseudo-header games, :authority/host, :path
# and :method injection, CONNECT, content-length against DATA, trailers
# (RST_STREAM PROTOCOL_ERROR or 400); limits (header list, HPACK table
# update and bomb, frame size, concurrent streams); floods (rapid reset,
# CONTINUATION, SETTINGS, PING, PRIORITY, WINDOW_UPDATE, empty DATA, RST
# of a closed stream: GOAWAY ENHANCE_YOUR_CALM); timers (window-zero stall
# and stalled upload: body_idle; header blocks that never end or trickle:
# request_head; silence, half a preface, PINGs only: keepalive); memory
# (one connection's uploads share one body_buffer, a body sent on after
# an early answer is cut off, a reader of 100 downloads that reads
# nothing); cancels mid-transfer followed by requests that must get their
# own answers.
# For each case it checks the outcome against what RFC 9113 allows, that
# the backend counted exactly the requests it should (none for a hostile
# one), and after every limit and flood that a fresh client is still
# served.  Controls: a normal GET and POST, "te: trailers", and cookie
# crumbs joined with "; " as the backend sees them, forged identity fields
# dropped.  Then a mix of interleaved streams on several connections
# (h2hostile.py --soak): every response on the stream that asked, also
# when timeouts.max_connection_age ends the connections with GOAWAY while
# streams are in flight.  At the end, no hostile path appears in the
# backend's log and the proxy exits cleanly.
# A proxy built without HTTP/2 (no listen.tls.http2 key) makes the file
# say so and skip; with it, h2 must be negotiated and every case counts.

T_STEP=${T_STEP:-20}
. "$(dirname "$0")/lib.sh"

H2H=$E2E_DIR/h2hostile.py

# A python3 with h2 and hyperframe (Debian installs them for the system
# python, which may not be the first python3 on PATH).
h2_python
PY=$H2_PY

# -v: the backend logs every request line, for the final sweep.
start_backend echo -v
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"

BODY_IDLE=2
REQUEST_HEAD=2
KEEPALIVE=3
routes="  - path: /
    backends: [$(be_url echo)]"
std_conf "$WORK/h2.yaml" "$routes" "auth:
  ca_path: $PKI/certificates
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  banned: $PKI/banned.txt
  hmac_key: $WORK/hmac.key
timeouts:
  body_idle: ${BODY_IDLE}s
  request_head: ${REQUEST_HEAD}s
  keepalive: ${KEEPALIVE}s"
start_proxy "$WORK/h2.yaml"

ALICE_DN=$(awk -F'\t' '$1 == "alice" { print $2; exit }' "$PKI/dns.txt")
[ -n "$ALICE_DN" ] || die "no DN for alice in $PKI/dns.txt"

# h2h ARGS...: the driver against the proxy as alice; output in $WORK/h2h.out.
# The proxy's pid lets it watch RSS, except under ASan (its quarantine
# keeps freed memory resident).
h2h() {
	local pid=(--proxy-pid "$PX_PID")
	sanitized && pid=()
	timeout 900 "$PY" "$H2H" --port "$PX_PORT" "${pid[@]}" \
	    --cert "$PKI/creds/alice.pem" --ca "$PKI/ca-bundle.pem" \
	    --backend "$(be_url echo)" --expect-dn "$ALICE_DN" \
	    --body-idle "$BODY_IDLE" --request-head "$REQUEST_HEAD" \
	    --keepalive "$KEEPALIVE" "$@" >"$WORK/h2h.out" 2>"$WORK/h2h.err"
}

# ------------------------------------------------------------------ h2 at all?

h2h --case ok_normal
rc=$?
# A binary that knows listen.tls.http2 (default true) must negotiate h2:
# only one without HTTP/2 at all may skip.
if [ "$rc" -eq 3 ] && "$GF" --list-keys 2>/dev/null |
    grep -q '^listen\.tls\.http2[[:space:]]'; then
	fail "h2 negotiated by a proxy with listen.tls.http2 (default true)" \
	    "$(head -n 1 "$WORK/h2h.out")"
	finish
fi
if [ "$rc" -eq 3 ]; then
	note "SKIP: the proxy does not negotiate h2 ($(head -n 1 "$WORK/h2h.out"));" \
	    "no hostile HTTP/2 case can run"
	assert_status "HTTP/1.1 still served while h2 is absent" 200 \
	    "$(px_url)/h2h/ok/h1" --http1.1 --cert "$PKI/creds/alice.pem"
	finish
fi
assert_eq "h2 negotiated and a normal request served (driver exit $rc)" \
    "ok_normal status:200" "$(awk -F'\t' '$1 == "CASE" { print $2, $3 }' \
    "$WORK/h2h.out")"

# ------------------------------------------------------------------ all cases

be_reset echo
cases=$("$PY" "$H2H" --port 1 --list)
ncases=$(wc -l <<<"$cases")
assert_ge "the driver knows at least 60 cases" "$ncases" 60

t0=$(now_ms)
h2h
rc=$?
note "driver exit $rc after $(( ($(now_ms) - t0) / 1000 )) s"
[ -s "$WORK/h2h.err" ] && sed 's/^/# driver: /' "$WORK/h2h.err" | tail -n 20

while IFS= read -r name; do
	line=$(awk -F'\t' -v n="$name" '$1 == "CASE" && $2 == n' "$WORK/h2h.out")
	if [ "$(grep -c . <<<"$line")" != 1 ]; then
		fail "$name: exactly one result line" "got: ${line:-nothing}"
		continue
	fi
	IFS=$'\t' read -r _ _ outcome exp delta want after detail <<<"$line"
	assert_match "$name: outcome ($detail)" "$outcome" "$exp"
	# "*": a case whose requests may legitimately arrive (see the driver).
	[ "$want" = "*" ] ||
	    assert_eq "$name: requests the backend received" "$want" "$delta"
	[ "$after" = - ] ||
	    assert_eq "$name: another client is served afterwards" \
	    status:200 "$after"
done <<<"$cases"
assert_eq "driver: every case as expected (exit status)" 0 "$rc"

# ------------------------------------------------------------------ mix

# Interleaved streams (GETs and POSTs) on 4 connections, 30 at a time on
# each, 3 rounds: every response on the stream that asked for it.
timeout 120 "$PY" "$H2H" --port "$PX_PORT" --cert "$PKI/creds/alice.pem" \
    --ca "$PKI/ca-bundle.pem" --expect-login alice --soak --soak-rounds 3 \
    --soak-conns 4 --soak-streams 30 --duration 60 \
    >"$WORK/soak.out" 2>&1
rc=$?
soak=$(grep '^SOAK ' "$WORK/soak.out")
assert_match "mix: 360 streams on 4 connections, each on its own (exit $rc)" \
    "$soak" '^SOAK requests=360 ok=360 mismatches=0 errors=0 '
[ "$rc" = 0 ] || grep '^#' "$WORK/soak.out" | head -n 5

# ------------------------------------------------------------------ sweep

# However late: nothing a hostile case sent ever reached the backend.
leaked=$(grep -a '/h2h/bad/' "$WORK/be-echo.err" | head -n 5)
assert_eq "backend log: no hostile request ever arrived" "" "$leaked"
if alive "$PX_PID"; then pass "proxy still running after all cases"
else fail "proxy still running after all cases"; fi
assert_status "HTTP/1.1 still served after all cases" 200 \
    "$(px_url)/h2h/ok/h1" --http1.1 --cert "$PKI/creds/alice.pem"
stop_proxy
assert_eq "proxy exits cleanly" 0 "$?"

# ------------------------------------------------------------------ GOAWAY

# timeouts.max_connection_age 1s: every connection of the mix is ended by
# a GOAWAY (NO_ERROR, last stream id) while streams are in flight.  Those
# up to the last id finish, the rest were never processed and say so; no
# stream gets a wrong or broken answer.
std_conf "$WORK/h2-age.yaml" "$routes" "auth:
  ca_path: $PKI/certificates
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  banned: $PKI/banned.txt
  hmac_key: $WORK/hmac.key
timeouts:
  max_connection_age: 1s"
start_proxy "$WORK/h2-age.yaml"
timeout 120 "$PY" "$H2H" --port "$PX_PORT" --cert "$PKI/creds/alice.pem" \
    --ca "$PKI/ca-bundle.pem" --expect-login alice --soak --duration 4 \
    --soak-conns 3 --soak-streams 20 --summary "$WORK/age.json" \
    >"$WORK/age.out" 2>&1
rc=$?
age=$(grep '^SOAK ' "$WORK/age.out")
assert_match "GOAWAY mix: each finished stream answered on its own ($rc)" \
    "$age" '^SOAK requests=([1-9][0-9]*) ok=\1 mismatches=0 errors=0 '
[ "$rc" = 0 ] || grep '^#' "$WORK/age.out" | head -n 5
assert_ge "GOAWAY mix: connections were ended and replaced" \
    "$(jq -r .connections "$WORK/age.json" 2>/dev/null)" 6
stop_proxy
assert_eq "proxy exits cleanly after the GOAWAY mix" 0 "$?"

finish
