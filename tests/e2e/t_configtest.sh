#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# `gridfront -t -c FILE` checks a config without starting: every error is
# printed as file:line:col: message and the exit status is 1; a good file
# exits 0.  Starting with a bad config fails the same way without
# listening.

. "$(dirname "$0")/lib.sh"

start_backend b1
B=$(be_url b1)
P=$(free_port)

# configtest NAME FILE: run -t, leave output in CT_OUT and status in CT_RC.
configtest() {
	CT_OUT=$(cd "$WORK" && timeout 20 "$GF" -t -c "$2" 2>&1)
	CT_RC=$?
}

cat >"$WORK/good.yaml" <<EOF
workers: 1
listen:
  - address: 127.0.0.1:$P
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: /dbs/
    auth: none
    backends: [$B]
  - path: ^/couchdb/wmstats/_design/WMStats/_view/(.*)\$
    auth: none
    rewrite: {from: "^/couchdb/wmstats/_design/WMStats/_view/(.*)\$", to: "/wmstats/_design/WMStatsErl7/_view/\$1"}
    backends: [$B]
timeouts:
  request_head: 5s
  upstream_response: 500ms
limits:
  max_header_count: 50
EOF
configtest good good.yaml
assert_eq "good config: exit 0" 0 "$CT_RC"
assert_match "good config: says OK" "$CT_OUT" '[Oo][Kk]'

# The port is in use: -t checks the file, it does not bind.
cat >"$WORK/busy.yaml" <<EOF
listen:
  - address: 127.0.0.1:${BE_PORT[b1]}
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: /
    auth: none
    backends: [$B]
EOF
configtest busy busy.yaml
assert_eq "-t does not bind the listeners" 0 "$CT_RC"

# Unknown key on line 2.
cat >"$WORK/bad1.yaml" <<EOF
workers: 1
bogus_key: 1
listen:
  - address: 127.0.0.1:$P
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: /
    auth: none
    backends: [$B]
EOF
configtest bad1 bad1.yaml
assert_eq "unknown key: exit 1" 1 "$CT_RC"
assert_match "unknown key: file:line:col: message" "$CT_OUT" 'bad1\.yaml:2:[0-9]+: .*bogus_key'

# Two errors on lines 4 and 9: both reported.
cat >"$WORK/bad2.yaml" <<EOF
workers: 1
listen:
  - address: 127.0.0.1:$P
    tls: {certificate: $PKI/server.pem, kee: $PKI/server.key}
routes:
  - path: /
    auth: none
    backends: [$B]
    retries: 3
EOF
configtest bad2 bad2.yaml
assert_eq "two errors: exit 1" 1 "$CT_RC"
assert_match "two errors: the first (line 4)" "$CT_OUT" 'bad2\.yaml:4:[0-9]+: '
assert_match "two errors: the second (line 9)" "$CT_OUT" 'bad2\.yaml:9:[0-9]+: '

# Bad values.
cat >"$WORK/bad3.yaml" <<EOF
listen:
  - address: 127.0.0.1:$P
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: /
    auth: sometimes
    backends: [$B]
timeouts:
  upstream_connect: soon
limits:
  max_header_count: -1
EOF
configtest bad3 bad3.yaml
assert_eq "bad values: exit 1" 1 "$CT_RC"
assert_match "bad auth value located" "$CT_OUT" 'bad3\.yaml:6:[0-9]+: '
assert_match "bad duration located" "$CT_OUT" 'bad3\.yaml:9:[0-9]+: '
assert_match "bad number located" "$CT_OUT" 'bad3\.yaml:11:[0-9]+: '

# Broken YAML syntax.
cat >"$WORK/bad4.yaml" <<EOF
listen:
  - address: 127.0.0.1:$P
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key
routes: []
EOF
configtest bad4 bad4.yaml
assert_eq "YAML syntax error: exit 1" 1 "$CT_RC"
assert_match "YAML syntax error: file:line:col" "$CT_OUT" 'bad4\.yaml:[0-9]+:[0-9]+: '

# A broken regex and a bad backend URL.
cat >"$WORK/bad5.yaml" <<EOF
listen:
  - address: 127.0.0.1:$P
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
routes:
  - path: ^/a/(unclosed
    auth: none
    backends: [$B]
  - path: /b
    auth: none
    backends: [ftp://127.0.0.1:21]
EOF
configtest bad5 bad5.yaml
assert_eq "bad regex / URL: exit 1" 1 "$CT_RC"
assert_match "bad regex located" "$CT_OUT" 'bad5\.yaml:5:[0-9]+: '
assert_match "bad backend URL located" "$CT_OUT" 'bad5\.yaml:10:[0-9]+: '

# Missing certificate file.
cat >"$WORK/bad6.yaml" <<EOF
listen:
  - address: 127.0.0.1:$P
    tls: {certificate: $WORK/nonexistent.pem, key: $PKI/server.key}
routes:
  - path: /
    auth: none
    backends: [$B]
EOF
configtest bad6 bad6.yaml
assert_eq "missing certificate: exit 1" 1 "$CT_RC"
assert_contains "missing certificate: named" "$CT_OUT" "nonexistent.pem"

configtest missing "$WORK/no-such-file.yaml"
assert_eq "missing config file: exit 1" 1 "$CT_RC"
assert_contains "missing config file: named" "$CT_OUT" "no-such-file.yaml"

# Starting (not -t) with a bad config: same errors, exit 1, nothing listens.
out=$(cd "$WORK" && timeout 20 "$GF" -c bad1.yaml 2>&1)
rc=$?
assert_eq "start with a bad config: exit 1" 1 "$rc"
assert_match "start with a bad config: error printed" "$out" 'bad1\.yaml:2:[0-9]+: '
if port_open "$P"; then fail "start with a bad config: nothing listens"
else pass "start with a bad config: nothing listens"; fi

finish
