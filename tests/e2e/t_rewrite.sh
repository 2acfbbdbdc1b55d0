#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Rewrites: the rewritten path is normalised like a client path, so capture
# groups copied verbatim cannot build "/../x" or "//x" for the backend
# (fuzz finding F3), a rewrite that strips everything forwards "/", and a
# prefix-stripping rewrite keeps the query.

. "$(dirname "$0")/lib.sh"

start_backend b1
std_conf "$WORK/rw.yaml" "  - path: \"^/v[0-9.]*/\"
    rewrite: {from: \"^/v([0-9.]*)/(.*)\$\", to: \"/\$1/\$2\"}
    auth: none
    backends: [$(be_url b1)]
  - path: \"^/strip\"
    rewrite: {from: \"/strip\", to: \"\"}
    auth: none
    backends: [$(be_url b1)]"
start_proxy "$WORK/rw.yaml"
U=$(px_url)

target() { gcurl "$U$1" | jq -r .target; }

assert_eq "captures cannot climb: /v../etc/passwd" "/etc/passwd" \
    "$(target '/v../etc/passwd')"
assert_eq "empty capture does not give //: /v/x" "/x" "$(target /v/x)"
assert_eq "ordinary capture: /v1.2/a/b" "/1.2/a/b" "$(target /v1.2/a/b)"
assert_eq "strip to nothing forwards /" "/" "$(target /strip)"
assert_eq "strip keeps the query" "/?q=1" "$(target '/strip?q=1')"
assert_eq "strip keeps the rest" "/a/b?q=1" "$(target '/strip/a/b?q=1')"

stop_proxy
finish
