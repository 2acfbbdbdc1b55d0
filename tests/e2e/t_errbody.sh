#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# gridfront's fixed error bodies, byte for byte (issue 11): two of them
# were sent with a hand-counted Content-Length that was too short, so
# clients read "...no route for this pat" and "...path is not va".  Each
# local answer with a literal body is provoked here and its body and
# Content-Length are compared with the exact text: the 404 for no route,
# the 400 for a rewrite that yields an invalid path, the 414 for a rewrite
# that yields a path too long, and the 301 of a redirect_https listener.
# The response must also end right after the body (nothing more, nothing
# less, on a connection the client asked to close).

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

H='Host: a\r\n'

# exact NAME STATUS BODY: the response in $WORK/raw.out has status STATUS,
# a Content-Length equal to BODY's byte count and exactly BODY after the
# head (BODY is printf-escaped text).
exact() {
	local name=$1 st=$2 body=$3 got
	printf "$body" >"$WORK/want.body"
	assert_eq "$name: status" "$st" "$(raw_status)"
	assert_eq "$name: Content-Length is the body's length" \
	    "$(wc -c <"$WORK/want.body")" "$(raw_header Content-Length)"
	got=$(python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
i = d.find(b"\r\n\r\n")
sys.stdout.buffer.write(d[i + 4:] if i >= 0 else b"<no head>")' "$WORK/raw.out" |
	    od -An -tx1 | tr -s ' \n' ' ')
	assert_eq "$name: body byte for byte" \
	    "$(od -An -tx1 <"$WORK/want.body" | tr -s ' \n' ' ')" "$got"
}

start_backend b1
long=$(head -c 120 </dev/zero | tr '\0' a)
std_conf "$WORK/err.yaml" "  - path: /ok
    auth: none
    backends: [$(be_url b1)]
  - path: ^/bad/(.*)\$
    rewrite: {from: \"^/bad/(.*)\$\", to: \"/x%2F\$1\"}
    auth: none
    backends: [$(be_url b1)]
  - path: ^/long/(.*)\$
    rewrite: {from: \"^/long/(.*)\$\", to: \"/\$1\$1\$1\"}
    auth: none
    backends: [$(be_url b1)]" "limits:
  max_request_line: 256
log: {access: off}"
start_proxy "$WORK/err.yaml"

raw "GET /nothing/here HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
exact "no route (conn.c)" 404 '404 Not Found: no route for this path\n'

raw "GET /bad/y HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
exact "rewrite to an invalid path (forward.c)" 400 \
    '400 Bad Request: the rewritten path is not valid\n'

raw "GET /long/$long HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
exact "rewrite to a path too long (forward.c)" 414 '414 URI Too Long\n'

assert_eq "none of these reached the backend" 0 "$(be_stats b1 requests)"
# Control: the route works and the backend answers.
raw "GET /ok HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
assert_eq "control: /ok is served" 200 "$(raw_status)"
stop_proxy

# The 301 of a plain listener with redirect_https.
PLAIN=$(free_port)
cat >"$WORK/redir.yaml" <<EOF
workers: 1
listen:
  - address: 127.0.0.1:$PLAIN
    redirect_https: true
routes:
  - path: /
    auth: none
    backends: [$(be_url b1)]
log: {access: off}
EOF
start_proxy "$WORK/redir.yaml"
printf 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
    timeout "$T_STEP" "$RAW" --host 127.0.0.1 --port "$PLAIN" --plain \
    --expect-close --timeout-ms 3000 >"$WORK/raw.out" 2>"$WORK/raw.err"
exact "redirect to https (conn.c)" 301 'Moved to https\n'
stop_proxy

finish
