#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Plain-HTTP listeners: one with redirect_https answers every request with
# a 301 to https on https_port, keeping path and query, and never contacts
# a backend; one without it serves the routes in plain HTTP with
# X-Forwarded-Proto: http.  The request-validation layer applies to plain
# listeners too.

. "$(dirname "$0")/lib.sh"

start_backend b1
PX_PORT=$(free_port)
REDIR_PORT=$(free_port)
PLAIN_PORT=$(free_port)
cat >"$WORK/redirect.yaml" <<EOF
workers: ${GF_WORKERS:-1}
listen:
  - address: 127.0.0.1:$PX_PORT
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
  - address: 127.0.0.1:$REDIR_PORT
    redirect_https: true
    https_port: $PX_PORT
  - address: 127.0.0.1:$PLAIN_PORT
routes:
$(route / b1)
EOF
start_proxy "$WORK/redirect.yaml"

r0=$(be_stats b1 requests)
h=$(timeout 20 curl -sS --http1.1 --max-time 10 -D - -o /dev/null \
    "http://127.0.0.1:$REDIR_PORT/a/b%20c?x=1&y=/z")
assert_match "redirect: 301" "$h" '^HTTP/1\.1 301'
loc=$(awk 'tolower($1) == "location:" { sub(/\r$/, ""); print $2 }' <<<"$h")
assert_eq "redirect: Location keeps host, path and query" \
    "https://127.0.0.1:$PX_PORT/a/b%20c?x=1&y=/z" "$loc"
h=$(timeout 20 curl -sS --http1.1 --max-time 10 -D - -o /dev/null -H 'Host: cmsweb.example:80' \
    "http://127.0.0.1:$REDIR_PORT/")
loc=$(awk 'tolower($1) == "location:" { sub(/\r$/, ""); print $2 }' <<<"$h")
assert_eq "redirect: Location uses the request's host name, not its port" \
    "https://cmsweb.example:$PX_PORT/" "$loc"
h=$(timeout 20 curl -sS --http1.1 --max-time 10 -D - -o /dev/null -X POST -d 'x=1' \
    "http://127.0.0.1:$REDIR_PORT/post")
assert_match "redirect: POST also gets 301" "$h" '^HTTP/1\.1 301'
assert_eq "redirect: no backend contacted" "$r0" "$(be_stats b1 requests)"

# Following the redirect ends on the TLS listener and the backend.
j=$(timeout 20 curl -sS --http1.1 --max-time 10 -L --cacert "$PKI/ca-bundle.pem" \
    "http://127.0.0.1:$REDIR_PORT/follow?q=1")
assert_eq "redirect followed to https reaches the backend" "/follow?q=1" \
    "$(jq -r .target <<<"$j" 2>/dev/null)"

# A bad request on the redirect listener is still rejected, not redirected.
printf 'GET http://evil/ HTTP/1.1\r\nHost: a\r\n\r\n' | timeout 20 "$RAW" --plain \
    --port "$REDIR_PORT" --expect-close --timeout-ms 3000 >"$WORK/raw.out" 2>"$WORK/raw.err"
assert_match "redirect listener rejects an absolute-form target" "$(raw_status)" '^4[0-9][0-9]$'
printf 'GET /a\r\nHost: a\r\n\r\n' | timeout 20 "$RAW" --plain \
    --port "$REDIR_PORT" --expect-close --timeout-ms 3000 >"$WORK/raw.out" 2>"$WORK/raw.err"
assert_ne "redirect listener does not redirect a malformed request" 301 "$(raw_status)"

# ------------------------------------------------------------------ plain, no redirect
j=$(timeout 20 curl -sS --http1.1 --max-time 10 -H 'X-Forwarded-Proto: https' \
    "http://127.0.0.1:$PLAIN_PORT/plain?x=1")
assert_eq "plain listener forwards" "/plain?x=1" "$(jq -r .target <<<"$j" 2>/dev/null)"
assert_eq "plain listener: X-Forwarded-Proto is http" http \
    "$(json_headers "$j" X-Forwarded-Proto 2>/dev/null)"
printf 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' |
    timeout 20 "$RAW" --plain --port "$PLAIN_PORT" --expect-close --timeout-ms 3000 \
    >"$WORK/raw.out" 2>"$WORK/raw.err"
assert_match "plain listener rejects CL+TE too" "$(raw_status)" '^4[0-9][0-9]$'

# TLS on the plain port and plain on the TLS port fail cleanly.
printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' | timeout 20 "$RAW" --plain --port "$PX_PORT" \
    --expect-close --timeout-ms 3000 >"$WORK/raw.out" 2>"$WORK/raw.err"
if grep -qE '^(CLOSED|RESET)$' "$WORK/raw.err"; then pass "plain HTTP on the TLS port: closed"
else fail "plain HTTP on the TLS port: closed" "$(cat "$WORK/raw.err")"; fi
assert_status "TLS listener still fine afterwards" 200 "https://127.0.0.1:$PX_PORT/ok"

stop_proxy
assert_eq "proxy exits 0" 0 "$?"
finish
