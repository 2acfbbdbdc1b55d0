#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The Host a backend is sent (issue 13).  Behind CMSWEB every backend is
# an ingress that routes on its own host name, so by default gridfront
# sends the backend URL's host:port as written in the config (as Apache's
# ProxyPreserveHost Off and the Go proxy do), and the client's Host goes
# in X-Forwarded-Host.  Per route, host_header: client passes the
# client's Host on, and host_header: NAME sends a fixed ingress name.
# HTTP/1.0 requests without Host get the same choice.  A route whose
# backends are written with different names sends each its own.  Before
# issue 13 the client's Host was always forwarded: every check of the
# backend's Host below failed then.

. "$(dirname "$0")/lib.sh"

start_backend b1
start_backend b2
B1=${BE_PORT[b1]}
B2=${BE_PORT[b2]}
DEAD=$(free_port)	# nothing listens there: connects are refused
std_conf "$WORK/host.yaml" "$(cat <<EOF
  - path: /default
    auth: none
    backends: [http://localhost:$B1]
  - path: /client
    auth: none
    host_header: client
    backends: [http://localhost:$B1]
  - path: /ingress
    auth: none
    host_header: cmsweb-srv.cern.ch
    backends: [http://localhost:$B1]
  - path: /ingressport
    auth: none
    host_header: "cmsweb-srv.cern.ch:8443"
    backends: [http://localhost:$B1]
  - path: /two
    auth: none
    backends: [http://localhost:$B1, http://127.0.0.1:$B2]
  - path: /retry
    auth: none
    backends: [http://localhost:$DEAD, http://127.0.0.1:$B2]
EOF
)"
start_proxy "$WORK/host.yaml"
U=$(px_url)

# ------------------------------------------------------------- default
j=$(gcurl "$U/default/x" -H 'Host: cmsweb.example')
assert_eq "default: backend gets the URL's host:port as written" \
    "localhost:$B1" "$(json_headers "$j" Host)"
assert_eq "default: exactly one Host" 1 "$(json_headers "$j" Host | wc -l)"
assert_eq "default: X-Forwarded-Host is the client's Host" cmsweb.example \
    "$(json_headers "$j" X-Forwarded-Host)"

# ------------------------------------------------------------- client
j=$(gcurl "$U/client/x" -H 'Host: cmsweb.example')
assert_eq "client: backend gets the client's Host" cmsweb.example \
    "$(json_headers "$j" Host)"
assert_eq "client: exactly one Host" 1 "$(json_headers "$j" Host | wc -l)"
assert_eq "client: X-Forwarded-Host too" cmsweb.example \
    "$(json_headers "$j" X-Forwarded-Host)"

# ------------------------------------------------------------- literal
j=$(gcurl "$U/ingress/x" -H 'Host: cmsweb.example')
assert_eq "literal: backend gets the ingress name" cmsweb-srv.cern.ch \
    "$(json_headers "$j" Host)"
assert_eq "literal: exactly one Host" 1 "$(json_headers "$j" Host | wc -l)"
assert_eq "literal: X-Forwarded-Host is the client's Host" cmsweb.example \
    "$(json_headers "$j" X-Forwarded-Host)"
j=$(gcurl "$U/ingressport/x")
assert_eq "literal with a port" "cmsweb-srv.cern.ch:8443" \
    "$(json_headers "$j" Host)"

# ------------------------------------------------------------- HTTP/1.0
for p in default client ingress; do
	raw "GET /$p/old HTTP/1.0\r\n\r\n"
	want=localhost:$B1
	[ $p = ingress ] && want=cmsweb-srv.cern.ch
	j=$(body_of "$WORK/raw.out")
	assert_eq "HTTP/1.0 without Host on /$p: status" 200 "$(raw_status)"
	assert_eq "HTTP/1.0 without Host on /$p: backend Host" "$want" \
	    "$(json_headers "$j" Host)"
	assert_eq "HTTP/1.0 without Host on /$p: no X-Forwarded-Host" "" \
	    "$(json_headers "$j" X-Forwarded-Host)"
done
raw "GET /client/old HTTP/1.0\r\nHost: old.example\r\n\r\n"
assert_eq "HTTP/1.0 with Host on /client: passed on" old.example \
    "$(json_headers "$(body_of "$WORK/raw.out")" Host)"

# ------------------------------------------------------------- two names
# Round-robin over two backends written with different names: each gets
# its own, on keep-alive connections and fresh ones alike.
ok=0
for i in 1 2 3 4; do
	j=$(gcurl "$U/two/$i" -H 'Host: cmsweb.example')
	case "$(jq -r .backend <<<"$j") $(json_headers "$j" Host)" in
	"b1 localhost:$B1"|"b2 127.0.0.1:$B2") ok=$((ok + 1)) ;;
	*) note "two: got $(jq -r .backend <<<"$j") $(json_headers "$j" Host)" ;;
	esac
done
assert_eq "two backends: each gets its own host:port" 4 "$ok"
# Same, with a body buffered first (the Host line is fixed up after).
ok=0
for i in 1 2; do
	j=$(gcurl -X POST -d 'abc' "$U/two/p$i")
	case "$(jq -r .backend <<<"$j") $(json_headers "$j" Host) $(jq -r .body_length <<<"$j")" in
	"b1 localhost:$B1 3"|"b2 127.0.0.1:$B2 3") ok=$((ok + 1)) ;;
	esac
done
assert_eq "two backends with a body: each gets its own host:port" 2 "$ok"

# A refused connect moves the request to the next backend: it gets its
# own name, not the dead one's.
ok=0
for i in 1 2 3; do
	j=$(gcurl "$U/retry/$i" -H 'Host: cmsweb.example')
	[ "$(jq -r .backend <<<"$j") $(json_headers "$j" Host)" = \
	    "b2 127.0.0.1:$B2" ] && ok=$((ok + 1))
done
assert_eq "retry on another backend: its own host:port" 3 "$ok"

# ------------------------------------------------------------- --test-route
out=$(timeout "$T_STEP" "$GF" --test-route /ingress/x -c "$WORK/host.yaml" 2>&1)
assert_contains "--test-route shows the literal Host" "$out" \
    "host:     cmsweb-srv.cern.ch (host_header)"
out=$(timeout "$T_STEP" "$GF" --test-route /default/x -c "$WORK/host.yaml" 2>&1)
assert_contains "--test-route shows the backend's Host" "$out" \
    "host:     localhost:$B1 (the backend's)"
out=$(timeout "$T_STEP" "$GF" --test-route /client/x --host cmsweb.example \
    -c "$WORK/host.yaml" 2>&1)
assert_contains "--test-route shows the client's Host" "$out" \
    "host:     cmsweb.example (the client's"

stop_proxy
finish
