#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The basic forwarding path, end to end over real TLS: GET, POST and HEAD
# reach the backend unchanged; upstream keep-alive connections are pooled
# and reused (the backend counts its accepted connections);
# X-Forwarded-For/-Proto/-Host come from the connection and client copies,
# Forwarded and Via are removed; hop-by-hop headers (and every header
# Connection names) are removed in both directions; routing is ordered,
# prefix at a segment boundary, regex with rewrite (the WMStats example),
# 404 with no route; paths are normalised before routing; round-robin
# spreads requests over a route's backends.

. "$(dirname "$0")/lib.sh"

start_backend b1
start_backend b2
start_backend b3
start_backend couch

routes="$(route /dbs/ b1)
  - path: ^/couchdb/wmstats/_design/WMStats/_view/(.*)\$
    auth: none
    rewrite: {from: \"^/couchdb/wmstats/_design/WMStats/_view/(.*)\$\", to: \"/wmstats/_design/WMStatsErl7/_view/\$1\"}
    backends: [$(be_url couch)]
$(route /rr b2 b3)
$(route /api b2)"
std_conf "$WORK/basic.yaml" "$routes"
start_proxy "$WORK/basic.yaml"
U=$(px_url)

# ------------------------------------------------------------------ GET
j=$(gcurl "$U/dbs/datasets?dataset=/a/b/RAW&x=1" -H 'X-Custom: Some Value')
assert_eq "GET reaches the route's backend" b1 "$(jq -r .backend <<<"$j")"
assert_eq "GET method forwarded" GET "$(jq -r .method <<<"$j")"
assert_eq "GET target (path + query) forwarded unchanged" \
    "/dbs/datasets?dataset=/a/b/RAW&x=1" "$(jq -r .target <<<"$j")"
assert_eq "upstream request is HTTP/1.1" "HTTP/1.1" "$(jq -r .version <<<"$j")"
assert_eq "end-to-end header forwarded with its value" "Some Value" \
    "$(json_headers "$j" X-Custom)"
assert_eq "exactly one Host upstream" 1 "$(json_headers "$j" Host | wc -l)"
assert_eq "no body on a GET" 0 "$(jq -r .body_length <<<"$j")"

# ------------------------------------------------------------------ POST
printf 'hello, backend\n%.0s' $(seq 1 1000) >"$WORK/post.txt"
exp=$(sha256sum "$WORK/post.txt" | cut -c1-64)
j=$(gcurl -X POST --data-binary @"$WORK/post.txt" -H 'Content-Type: text/plain' \
    "$U/dbs/upload")
assert_eq "POST method" POST "$(jq -r .method <<<"$j")"
assert_eq "POST body length" "$(stat -c %s "$WORK/post.txt")" \
    "$(jq -r .body_length <<<"$j")"
assert_eq "POST body checksum" "$exp" "$(jq -r .body_sha256 <<<"$j")"
assert_eq "Content-Type forwarded" "text/plain" "$(json_headers "$j" Content-Type)"

# Empty-bodied POST (Content-Length: 0).
j=$(gcurl -X POST -d '' "$U/dbs/empty")
assert_eq "POST with empty body forwarded" "0" "$(jq -r .body_length <<<"$j")"

# ------------------------------------------------------------------ HEAD
h=$(gcurl -I "$U/dbs/head")
assert_match "HEAD gets 200" "$h" '^HTTP/1\.1 200'
assert_match "HEAD keeps the backend's Content-Length" "$h" \
    $'[Cc]ontent-[Ll]ength: [1-9][0-9]*\r'
raw 'HEAD /dbs/x HTTP/1.1\r\nHost: a\r\n\r\nGET /dbs/after-head HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
assert_eq "HEAD then GET on one connection: two responses" 2 "$(raw_nresponses)"
assert_contains "the GET after a HEAD is answered correctly" "$RAW_OUT" '"target":"/dbs/after-head"'

# ------------------------------------------------------------------ reuse
be_reset b1
urls=()
for i in $(seq 1 50); do urls+=("$U/dbs/seq$i"); done
gcurl "${urls[@]}" >/dev/null
assert_eq "50 keep-alive requests all reached b1" 50 "$(be_stats b1 requests)"
assert_le "50 requests on one client connection use <= 2 upstream conns" \
    "$(be_stats b1 conns)" 2
be_reset b1
for i in $(seq 1 20); do gcurl -o /dev/null "$U/dbs/new$i"; done
assert_eq "20 requests on 20 client connections reached b1" 20 \
    "$(be_stats b1 requests)"
assert_le "20 client connections share pooled upstream conns (<= 2)" \
    "$(be_stats b1 conns)" 2
j=$(gcurl "$U/dbs/a" "$U/dbs/b" | jq -s -c '[.[0].conn, .[1].conn]')
assert_eq "consecutive requests reuse the same upstream connection" \
    "$(jq '.[0]' <<<"$j")" "$(jq '.[1]' <<<"$j")"

# ------------------------------------------------------------------ X-Forwarded
j=$(gcurl "$U/dbs/xff" -H 'X-Forwarded-For: 6.6.6.6' -H 'X-Forwarded-Proto: http' \
    -H 'X-Forwarded-Host: evil.example' -H 'Forwarded: for=6.6.6.6;proto=http' \
    -H 'Via: 1.1 evil' -H 'x-forwarded-for: 7.7.7.7')
assert_eq "X-Forwarded-For is the client address only" "127.0.0.1" \
    "$(json_headers "$j" X-Forwarded-For)"
assert_eq "X-Forwarded-Proto is https" "https" "$(json_headers "$j" X-Forwarded-Proto)"
assert_eq "X-Forwarded-Host is the client's Host" "127.0.0.1:$PX_PORT" \
    "$(json_headers "$j" X-Forwarded-Host)"
assert_eq "client Forwarded removed" "" "$(json_headers "$j" Forwarded)"
assert_eq "client Via removed" "" "$(json_headers "$j" Via)"
assert_not_contains "no client X-Forwarded value survives" "$j" "6.6.6.6"
assert_not_contains "no lower-case client copy survives" "$j" "7.7.7.7"
assert_not_contains "no client X-Forwarded-Host survives" "$j" "evil.example"

# ------------------------------------------------------------------ hop-by-hop
j=$(gcurl "$U/dbs/hop" -H 'Connection: keep-alive, X-Secret-Hop, x-other-hop' \
    -H 'X-Secret-Hop: 1' -H 'X-Other-Hop: 2' -H 'Keep-Alive: timeout=5' \
    -H 'Proxy-Connection: keep-alive' -H 'TE: trailers' -H 'Trailer: X-T' \
    -H 'Upgrade: websocket' -H 'X-End-To-End: kept')
for h in X-Secret-Hop X-Other-Hop Keep-Alive Proxy-Connection TE Trailer Upgrade; do
	assert_eq "hop-by-hop request header $h removed" "" "$(json_headers "$j" "$h")"
done
c=$(json_headers "$j" Connection)
assert_match "Connection upstream is absent or keep-alive/close only" "$c" \
    '^((keep-alive|close))?$'
assert_eq "end-to-end header next to hop-by-hop ones kept" kept \
    "$(json_headers "$j" X-End-To-End)"

# Response direction: the backend adds hop-by-hop headers on request.
h=$(gcurl -D - -o /dev/null "$U/dbs/resp-hop" \
    -H 'X-Backend-Respond-Header: Connection: X-Resp-Secret' \
    -H 'X-Backend-Respond-Header: X-Resp-Secret: 1' \
    -H 'X-Backend-Respond-Header: Keep-Alive: timeout=99' \
    -H 'X-Backend-Respond-Header: Proxy-Connection: keep-alive' \
    -H 'X-Backend-Respond-Header: Upgrade: h2c' \
    -H 'X-Backend-Respond-Header: X-Resp-Kept: yes')
h=$(tr 'A-Z' 'a-z' <<<"$h")
assert_not_contains "response header named by Connection removed" "$h" "x-resp-secret"
assert_not_contains "response Keep-Alive removed" "$h" "timeout=99"
assert_not_contains "response Proxy-Connection removed" "$h" "proxy-connection"
assert_not_contains "response Upgrade removed" "$h" "upgrade:"
assert_contains "end-to-end response header kept" "$h" "x-resp-kept: yes"

# ------------------------------------------------------------------ routing
assert_status "no route: 404" 404 "$U/nothing/here"
n0=$(be_stats b1 requests)
assert_status "prefix matches only at a segment boundary: /dbsx is 404" 404 "$U/dbsx"
assert_eq "a 404 never reaches a backend" "$n0" "$(be_stats b1 requests)"
j=$(gcurl "$U/dbs")
assert_eq "prefix /dbs/ matches /dbs itself" b1 "$(jq -r .backend <<<"$j")"
j=$(gcurl "$U/api/x")
assert_eq "later route used when earlier ones do not match" b2 "$(jq -r .backend <<<"$j")"
assert_status "no boundary match for /apix" 404 "$U/apix"

j=$(gcurl "$U/couchdb/wmstats/_design/WMStats/_view/requestByStatus?stale=update_after")
assert_eq "regex route picks its backend" couch "$(jq -r .backend <<<"$j")"
assert_eq "WMStats rewrite applied (query kept)" \
    "/wmstats/_design/WMStatsErl7/_view/requestByStatus?stale=update_after" \
    "$(jq -r .target <<<"$j")"
assert_status "regex anchored: other couchdb paths are 404" 404 \
    "$U/couchdb/wmstats/_design/Other/_view/x"

# ------------------------------------------------------------------ normalisation
j=$(gcurl --path-as-is "$U/dbs/a/./b/../c")
assert_eq "dot segments resolved before forwarding" "/dbs/a/c" "$(jq -r .target <<<"$j")"
j=$(gcurl --path-as-is "$U/x/../dbs/y")
assert_eq "dot segments resolved before routing" b1 "$(jq -r .backend <<<"$j")"
assert_eq "... and the backend gets the normalised path" "/dbs/y" "$(jq -r .target <<<"$j")"
j=$(gcurl "$U/%64bs/%7Euser")
assert_eq "unreserved %XX decoded before routing" b1 "$(jq -r .backend <<<"$j")"
assert_eq "... and forwarded decoded" "/dbs/~user" "$(jq -r .target <<<"$j")"
j=$(gcurl "$U/dbs/a%20b?q=%2F..%2F")
assert_eq "reserved escapes kept, query untouched" "/dbs/a%20b?q=%2F..%2F" \
    "$(jq -r .target <<<"$j")"
n0=$(be_stats b1 requests)
assert_status "dot-segment escape of a route is not routed there" 404 \
    --path-as-is "$U/dbs/../nothing"
assert_eq "it did not reach b1" "$n0" "$(be_stats b1 requests)"

# ------------------------------------------------------------------ round-robin
be_reset b2
be_reset b3
for i in $(seq 1 10); do gcurl -o /dev/null "$U/rr/$i"; done
assert_eq "round-robin: b2 got half" 5 "$(be_stats b2 requests)"
assert_eq "round-robin: b3 got half" 5 "$(be_stats b3 requests)"

# ------------------------------------------------------------------ id echo
h=$(gcurl -D - -o /dev/null -H 'X-Request-Id: basic-42' "$U/dbs/id")
assert_contains "request id travels to the backend and back" "$h" "X-Request-Id: basic-42"

stop_proxy
assert_eq "proxy exits 0 on SIGTERM" 0 "$?"

# ------------------------------------------------------------------ workers
# Several workers, each with its own SO_REUSEPORT listener, all serve.
for w in 4 auto; do
	PX_PORT=
	GF_WORKERS=$w std_conf "$WORK/workers-$w.yaml" "$(route / b1)"
	start_proxy "$WORK/workers-$w.yaml"
	U=$(px_url)
	n=$(ls "/proc/$PX_PID/task" | wc -l)
	if [ "$w" = 4 ]; then
		assert_ge "workers: 4 runs at least 4 threads ($n)" "$n" 4
	else
		assert_ge "workers: auto runs at least one thread per CPU ($n)" \
		    "$n" "$(nproc)"
	fi
	pids=()
	for i in $(seq 1 40); do
		gcurl -o /dev/null -w '%{http_code}\n' "$U/w$i" >"$WORK/w.$i" 2>&1 &
		pids+=("$!")
	done
	for p in "${pids[@]}"; do wait "$p"; done
	assert_eq "workers: $w: 40 parallel requests all 200" 40 \
	    "$(cat "$WORK"/w.* | grep -c '^200$')"
	rm -f "$WORK"/w.*
	stop_proxy
	assert_eq "workers: $w: exits 0" 0 "$?"
done
finish
