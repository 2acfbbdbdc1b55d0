#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The route rules the Apache frontend's configuration uses (issue 13),
# against the real binary and a real backend:
#   - redirect: {to, status, keep_query}: every status, the query kept or
#     dropped, $1..$9 and $host substituted, and request bytes that try to
#     inject CR/LF, '//host', '?', '#' or a backslash percent-encoded;
#     never a backend contacted;
#   - query: REGEX: a route matches only when path and query both match;
#   - methods: [...]: anything else gets 405 with Allow;
#   - origin_check: unsafe methods with a foreign Origin get 403 (null,
#     another scheme, another port, case, the allowed one, none), counted
#     in gridfront_route_refusals_total.
# Before issue 13 none of these keys loaded: every check failed.

. "$(dirname "$0")/lib.sh"

start_backend b1
start_backend b2
ADMIN=$(free_port)
std_conf "$WORK/rules.yaml" "$(cat <<EOF
  - path: ^/r301/(.*)\$
    auth: none
    redirect: {to: "https://cmsweb.example/new/\$1", status: 301}
  - path: ^/r302/(.*)\$
    auth: none
    redirect: {to: "https://cmsweb.example/new/\$1"}
  - path: ^/r303/(.*)\$
    auth: none
    redirect: {to: "https://cmsweb.example/new/\$1", status: 303}
  - path: ^/r307/(.*)\$
    auth: none
    redirect: {to: "https://cmsweb.example/new/\$1", status: 307}
  - path: ^/r308/(.*)\$
    auth: none
    redirect: {to: "https://cmsweb.example/new/\$1", status: 308}
  - path: ^/noq/(.*)\$
    auth: none
    redirect: {to: "https://cmsweb.example/n/\$1", status: 302, keep_query: false}
  - path: ^/withq/(.*)\$
    auth: none
    redirect: {to: "https://cmsweb.example/w?fixed=1", status: 302}
  - path: ^/nine/(a)(b)(c)(d)(e)(f)(g)(h)(i)/(.*)\$
    auth: none
    redirect: {to: "https://cmsweb.example/\$9\$8\$7\$6\$5\$4\$3\$2\$1/\$\$", status: 301}
  - path: ^/own/(.*)\$
    auth: none
    redirect: {to: "https://\$host/moved/\$1", status: 308}
  - path: ^/rel/(.*)\$
    auth: none
    redirect: {to: "/local/\$1", status: 302}
  - path: /unmerged/
    auth: none
    query: "(^|&)rse_type=t1(&|\$)"
    backends: [$(be_url b1)]
  - path: /unmerged/
    auth: none
    backends: [$(be_url b2)]
  - path: /ro/
    auth: none
    methods: [GET, HEAD]
    backends: [$(be_url b1)]
  - path: /csrf/
    auth: none
    origin_check: true
    backends: [$(be_url b1)]
  - path: /csrf-list/
    auth: none
    origin_check: true
    allowed_origins: [https://cmsweb.cern.ch, "https://tools.example:8443"]
    backends: [$(be_url b1)]
EOF
)" "admin: {address: 127.0.0.1:$ADMIN}"
start_proxy "$WORK/rules.yaml"
U=$(px_url)
HP=127.0.0.1:$PX_PORT

# ------------------------------------------------------------- redirects
r0=$(be_stats b1 requests)
for st in 301 302 303 307 308; do
	raw "GET /r$st/a/b?x=1&y=2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	assert_eq "redirect $st: status" "$st" "$(raw_status)"
	assert_eq "redirect $st: Location, query kept" \
	    "https://cmsweb.example/new/a/b?x=1&y=2" "$(raw_header Location)"
done
raw "POST /r307/p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
assert_eq "redirect 307 of a POST" 307 "$(raw_status)"
raw "GET /noq/z?secret=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_eq "keep_query: false drops the query" "https://cmsweb.example/n/z" \
    "$(raw_header Location)"
raw "GET /withq/z?a=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_eq "keep_query joins with & after the template's own ?" \
    "https://cmsweb.example/w?fixed=1&a=1" "$(raw_header Location)"
raw "GET /withq/z HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_eq "no query: the template's own" "https://cmsweb.example/w?fixed=1" \
    "$(raw_header Location)"
raw "GET /nine/abcdefghi/rest HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_eq "\$1..\$9 and \$\$" 'https://cmsweb.example/ihgfedcba/$' \
    "$(raw_header Location)"
raw "GET /own/x?q=1 HTTP/1.1\r\nHost: cmsweb.example:8443\r\nConnection: close\r\n\r\n"
assert_eq "\$host is the request's Host" \
    "https://cmsweb.example:8443/moved/x?q=1" "$(raw_header Location)"
raw "GET /own/x HTTP/1.0\r\n\r\n"
assert_eq "\$host without a Host: 400" 400 "$(raw_status)"
raw "GET /rel/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_eq "relative template" "/local/x" "$(raw_header Location)"

# Request bytes cannot move the redirect elsewhere or split the header.
raw "GET /r301//evil.example/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_match "'//evil' in a capture stays in the path" "$(raw_header Location)" \
    '^https://cmsweb\.example/new/'
raw "GET /rel//evil.example HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_match "relative: '//evil' cannot make a protocol-relative Location" \
    "$(raw_header Location)" '^/local/'
# (The normalised path keeps escapes as they came, upper-cased; a capture
# of raw CR/LF bytes is percent-encoded too: see test_route.)
raw "GET /r301/a%0d%0aSet-Cookie:%20x=1%3f%23 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
assert_not_contains "encoded CR/LF does not split the head" "$RAW_OUT" \
    $'\nSet-Cookie'
assert_eq "CR LF ? # stay escaped in the Location" \
    "https://cmsweb.example/new/a%0D%0ASet-Cookie:%20x=1%3F%23" \
    "$(raw_header Location)"
raw "GET /own/x HTTP/1.1\r\nHost: evil.example/x?\r\nConnection: close\r\n\r\n"
assert_match "\$host that is not a host name is refused" "$(raw_status)" '^4'
assert_eq "redirects never reach a backend" "$r0" "$(be_stats b1 requests)"

# ------------------------------------------------------------- query
j=$(gcurl "$U/unmerged/x?a=1&rse_type=t1")
assert_eq "query matches: first route" b1 "$(jq -r .backend <<<"$j")"
j=$(gcurl "$U/unmerged/x?rse_type=t2")
assert_eq "query does not match: next route" b2 "$(jq -r .backend <<<"$j")"
j=$(gcurl "$U/unmerged/x")
assert_eq "no query: next route" b2 "$(jq -r .backend <<<"$j")"
j=$(gcurl "$U/unmerged/x?xrse_type=t1")
assert_eq "query regex is anchored as written" b2 "$(jq -r .backend <<<"$j")"

# ------------------------------------------------------------- methods
assert_status "methods: GET allowed" 200 "$U/ro/x"
h=$(gcurl -o /dev/null -D - -X POST -d x "$U/ro/x")
assert_match "methods: POST gets 405" "$h" '^HTTP/1\.1 405'
assert_contains "methods: 405 says Allow" "$h" "Allow: GET, HEAD"
h=$(gcurl -o /dev/null -D - -X DELETE "$U/ro/x")
assert_match "methods: DELETE gets 405" "$h" '^HTTP/1\.1 405'

# ------------------------------------------------------------- origin
post() { gcurl -o "$WORK/o.body" -w '%{http_code}' -X POST -d x "$@"; }
assert_eq "origin: none passes" 200 "$(post "$U/csrf/x")"
assert_eq "origin: own https origin passes" 200 \
    "$(post -H "Origin: https://$HP" "$U/csrf/x")"
assert_eq "origin: case differences pass" 200 \
    "$(post -H "Origin: HTTPS://127.0.0.1:$PX_PORT" "$U/csrf/x")"
assert_eq "origin: null refused" 403 "$(post -H 'Origin: null' "$U/csrf/x")"
assert_contains "origin: the 403 says why" "$(cat "$WORK/o.body")" \
    "cross-site request refused"
assert_eq "origin: another scheme refused" 403 \
    "$(post -H "Origin: http://$HP" "$U/csrf/x")"
assert_eq "origin: another port refused" 403 \
    "$(post -H "Origin: https://127.0.0.1:1" "$U/csrf/x")"
assert_eq "origin: another site refused" 403 \
    "$(post -H 'Origin: https://evil.example' "$U/csrf/x")"
assert_eq "origin: a GET with a foreign Origin passes" 200 \
    "$(gcurl -o /dev/null -w '%{http_code}' -H 'Origin: https://evil.example' "$U/csrf/x")"
assert_eq "origin: PUT is unsafe too" 403 \
    "$(gcurl -o /dev/null -w '%{http_code}' -X PUT -d x -H 'Origin: null' "$U/csrf/x")"
assert_eq "allowed_origins: listed passes" 200 \
    "$(post -H 'Origin: https://cmsweb.cern.ch' "$U/csrf-list/x")"
assert_eq "allowed_origins: listed, other case passes" 200 \
    "$(post -H 'Origin: https://CMSWEB.cern.ch' "$U/csrf-list/x")"
assert_eq "allowed_origins: listed with port passes" 200 \
    "$(post -H 'Origin: https://tools.example:8443' "$U/csrf-list/x")"
assert_eq "allowed_origins: other port refused" 403 \
    "$(post -H 'Origin: https://tools.example' "$U/csrf-list/x")"
assert_eq "allowed_origins: own Host no longer implied" 403 \
    "$(post -H "Origin: https://$HP" "$U/csrf-list/x")"
assert_eq "allowed_origins: null refused" 403 \
    "$(post -H 'Origin: null' "$U/csrf-list/x")"
assert_contains "origin: refusal in the error log" "$(cat "$PX_LOG")" \
    "origin_check: Origin 'null' is not allowed"

m=$(timeout "$T_STEP" curl -sS --max-time 10 "http://127.0.0.1:$ADMIN/metrics")
assert_contains "metrics: method refusals" "$m" \
    'gridfront_route_refusals_total{rule="method"} 2'
assert_contains "metrics: origin refusals" "$m" \
    'gridfront_route_refusals_total{rule="origin"} 8'

# ------------------------------------------------------------- --test-route
tr() { timeout "$T_STEP" "$GF" --test-route "$@" -c "$WORK/rules.yaml" 2>&1; }
assert_contains "--test-route: redirect target" "$(tr '/r308/a?b=1')" \
    "redirect: 308 Location: https://cmsweb.example/new/a?b=1"
assert_contains "--test-route: \$host from --host" \
    "$(tr /own/x --host h.example)" "redirect: 308 Location: https://h.example/moved/x"
assert_contains "--test-route: query decision" "$(tr '/unmerged/x?rse_type=t1')" \
    "query:    'rse_type=t1' matches"
assert_contains "--test-route: no query match, next route" \
    "$(tr '/unmerged/x?rse_type=t2')" "route:    #12"
assert_contains "--test-route: 405" "$(tr /ro/x --method POST)" \
    "POST gets 405"
assert_contains "--test-route: origin refused" \
    "$(tr /csrf/x --method POST --origin null --host a)" "gets 403"
assert_contains "--test-route: origin allowed" \
    "$(tr /csrf/x --method POST --origin https://a --host a)" "passes"

stop_proxy
finish
