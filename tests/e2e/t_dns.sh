#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Backends follow DNS.  A stub DNS server (tests/e2e/dnsstub.py, on
# 127.0.0.1, answers from a zone file this test rewrites) names two
# backends on 127.0.0.1 and 127.0.0.2 with one name, and the proxy asks it
# (upstream.resolvers) every second (upstream.resolve_interval: 1s):
# - every address the name has gets traffic, and an address added to DNS
#   gets traffic without a reload;
# - an address removed from DNS is drained: its idle pooled connections
#   close, a request in flight on it finishes whole, and no new request
#   goes to it;
# - a name that stops resolving keeps its last addresses (warning in the
#   log, gridfront_upstream_resolve_failures_total counts it);
# - a GET whose connect is refused on one address goes to the other;
# - `gridfront -t` fails at the URL's file:line:col for a name that never
#   resolves; a reload looks every name up again, keeps the running
#   addresses of a name that fails, and is refused for a new name that
#   has none;
# - the metrics say how many addresses each backend has, the failures and
#   the age of the last good answer.

. "$(dirname "$0")/lib.sh"

need_bins
NAME=svc.gftest
ZONE=$WORK/zone
BP=$(free_port)
ADMIN_PORT=$(free_port)

# ---------------------------------------------------------------- set-up

echo "$NAME 127.0.0.1" >"$ZONE"
python3 "$E2E_DIR/dnsstub.py" "$ZONE" >"$WORK/dns.out" 2>"$WORK/dns.err" &
PIDS+=("$!")
wait_until 5 grep -q '^PORT ' "$WORK/dns.out" || die "dnsstub did not start"
DNS_PORT=$(awk '/^PORT /{print $2; exit}' "$WORK/dns.out")

start_backend a --port "$BP"
start_backend b --port "$BP" --bind 127.0.0.2
[ "${BE_PORT[a]}" = "$BP" ] && [ "${BE_PORT[b]}" = "$BP" ] ||
    die "backends not on port $BP"

# stats_of ADDR FIELD: a backend's /__stats field, asked directly.
stats_of() {
	curl -s --max-time 5 "http://$1:$BP/__stats" | jq -r ".$2"
}

# metric NAME-AND-LABELS: the value of one series ("" when absent).
metric() {
	curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
	    awk -v k="$1" 'index($0, k " ") == 1 { print $2; exit }'
}
B_LABEL="{backend=\"http://$NAME:$BP\"}"

# which: one GET through the proxy; prints the id of the backend that
# answered, or "status:<code>".
which_be() {
	local code
	code=$(gcurl -o "$WORK/w.body" -w '%{http_code}' "$U/x" 2>/dev/null)
	if [ "$code" = 200 ]; then jq -r .backend <"$WORK/w.body"
	else echo "status:$code"; fi
}

# spread N: N sequential GETs; prints "a=<n> b=<n> other=<n>".
spread() {
	local i r na=0 nb=0 no=0
	for ((i = 0; i < $1; i++)); do
		r=$(which_be)
		case $r in a) na=$((na + 1)) ;; b) nb=$((nb + 1)) ;;
		*) no=$((no + 1)) ;; esac
	done
	echo "a=$na b=$nb other=$no"
}

std_conf "$WORK/dns.yaml" "  - path: /
    auth: none
    backends: [http://$NAME:$BP]" "upstream:
  resolvers: [127.0.0.1:$DNS_PORT]
  resolve_interval: 1s
  down_time: 3s
timeouts:
  upstream_connect: 2s
admin: {address: 127.0.0.1:$ADMIN_PORT}"

# ---------------------------------------------------------------- -t

out=$("$GF" -t -c "$WORK/dns.yaml" 2>&1)
assert_contains "-t: a name the stub resolves is accepted" "$out" \
    "configuration OK"

sed "s/$NAME/nope.gftest/" "$WORK/dns.yaml" >"$WORK/nope.yaml"
line=$(grep -n 'backends:' "$WORK/nope.yaml" | cut -d: -f1)
out=$("$GF" -t -c "$WORK/nope.yaml" 2>&1)
rc=$?
assert_eq "-t: a name that never resolves fails" 1 "$rc"
assert_contains "-t: the error is at the URL's file:line:col" "$out" \
    "$WORK/nope.yaml:$line:16: backend 'http://nope.gftest:$BP': cannot resolve 'nope.gftest'"

# ---------------------------------------------------------------- traffic

start_proxy "$WORK/dns.yaml"
U=$(px_url)

assert_eq "one address: every request goes to it" "a=6 b=0 other=0" \
    "$(spread 6)"
assert_eq "metrics: one address" 1 "$(metric "gridfront_upstream_addresses$B_LABEL")"

printf '%s 127.0.0.1\n%s 127.0.0.2\n' "$NAME" "$NAME" >"$ZONE"
wait_until 10 eval '[ "$(metric "gridfront_upstream_addresses$B_LABEL")" = 2 ]' ||
    fail "metrics: the new address is seen within 10 s"
assert_eq "an address added to DNS gets its share (round-robin)" \
    "a=3 b=3 other=0" "$(spread 6)"
assert_eq "metrics: per-address pool series" 1 \
    "$(metric "gridfront_upstream_up{worker=\"0\",backend=\"http://$NAME:$BP\",address=\"127.0.0.2:$BP\"}")"
age=$(metric "gridfront_upstream_resolve_age_seconds$B_LABEL")
assert_true "metrics: the last good answer is recent ($age s)" \
    awk -v a="$age" 'BEGIN { exit !(a != "" && a >= 0 && a < 5) }'

# ---------------------------------------------------------------- drain

# Two slow requests at once: round-robin puts one on each address; then
# two quick ones at once leave an idle pooled connection on 127.0.0.2.
for i in 1 2; do
	gcurl -o "$WORK/slow$i.body" -w '%{http_code}' -H 'X-Backend-Rate: 100' \
	    "$U/slow$i" >"$WORK/slow$i.code" 2>/dev/null &
	PIDS+=("$!")
	SLOW[$i]=$!
done
wait_until 5 eval '[ "$(stats_of 127.0.0.2 busy)" = 1 ]' ||
    fail "drain: a slow request is in flight on 127.0.0.2"
gcurl -o /dev/null "$U/q1" & q1=$!
gcurl -o /dev/null "$U/q2" & q2=$!
wait "$q1" "$q2"
open_b=$(stats_of 127.0.0.2 open)
assert_ge "drain: 127.0.0.2 holds an idle and a busy connection ($open_b)" \
    "$open_b" 2

echo "$NAME 127.0.0.1" >"$ZONE"
wait_until 10 eval '[ "$(metric "gridfront_upstream_addresses$B_LABEL")" = 1 ]' ||
    fail "metrics: the removal is seen within 10 s"
wait_until 5 eval '[ "$(stats_of 127.0.0.2 open)" -le 1 ]' ||
    fail "drain: idle pooled connections to the removed address close (open: $(stats_of 127.0.0.2 open))"
# About 5 s at 100 bytes/s: still going while the idle ones closed.
if alive "${SLOW[1]}" && alive "${SLOW[2]}"; then
	pass "drain: the slow requests are still in flight then"
else fail "drain: the slow requests are still in flight then"; fi
for i in 1 2; do
	wait "${SLOW[$i]}"
	assert_eq "drain: in-flight request $i finishes" 200 \
	    "$(cat "$WORK/slow$i.code")"
	assert_eq "drain: in-flight request $i is whole" "/slow$i" \
	    "$(jq -r .target <"$WORK/slow$i.body")"
done
assert_eq "drain: the in-flight request did run on 127.0.0.2" 1 \
    "$(cat "$WORK"/slow?.body | jq -r .backend | grep -c '^b$')"
wait_until 5 eval '[ "$(stats_of 127.0.0.2 open)" = 0 ]' ||
    fail "drain: the connection of the finished request is not pooled"
before=$(stats_of 127.0.0.2 requests)
assert_eq "drain: no new request goes to the removed address" \
    "a=6 b=0 other=0" "$(spread 6)"
assert_eq "drain: 127.0.0.2 saw no new request" "$before" \
    "$(stats_of 127.0.0.2 requests)"

# ---------------------------------------------------------------- failures

: >"$ZONE"
wait_until 10 eval '[ "$(metric "gridfront_upstream_resolve_failures_total$B_LABEL")" -ge 1 ]' ||
    fail "metrics: a failed lookup is counted within 10 s"
assert_contains "a name that stops resolving is logged" "$(cat "$PX_LOG")" \
    "cannot resolve '$NAME'"
assert_eq "a name that stops resolving keeps serving" "a=4 b=0 other=0" \
    "$(spread 4)"
assert_eq "metrics: its last good address is kept" 1 \
    "$(metric "gridfront_upstream_addresses$B_LABEL")"

# ---------------------------------------------------------------- retry

printf '%s 127.0.0.1\n%s 127.0.0.2\n' "$NAME" "$NAME" >"$ZONE"
wait_until 10 eval '[ "$(metric "gridfront_upstream_addresses$B_LABEL")" = 2 ]' ||
    fail "metrics: the address is back within 10 s"
stop_backend b
r=$(spread 6)
assert_eq "a GET refused on one address is served by the other" \
    "a=6 b=0 other=0" "$r"
assert_contains "the refused connect is logged" "$(cat "$PX_LOG")" \
    "backend connect failed"
retries=$(metric "gridfront_upstream_retries_total{worker=\"0\",backend=\"http://$NAME:$BP\",address=\"127.0.0.1:$BP\"}")
assert_ge "metrics: the retry is counted ($retries)" "${retries:-0}" 1

# ---------------------------------------------------------------- reload

# gen_is N: the configuration generation in force is N.
gen_is() { [ "$(metric gridfront_config_generation)" = "$1" ]; }

# Background lookups once an hour from now on: only a reload looks again.
sed -i 's/resolve_interval: 1s/resolve_interval: 1h/' "$WORK/dns.yaml"
kill -HUP "$PX_PID"
wait_until 10 gen_is 2 || fail "reload: generation 2 in force"
sleep 2.5	# the 1 s timer fires once more and takes the new interval
echo "$NAME 127.0.0.1" >"$ZONE"
sleep 2
assert_eq "reload: with resolve_interval 1h nothing looks again" 2 \
    "$(metric "gridfront_upstream_addresses$B_LABEL")"
kill -HUP "$PX_PID"
wait_until 10 gen_is 3 || fail "reload: generation 3 in force"
assert_eq "reload: the name is looked up again" 1 \
    "$(metric "gridfront_upstream_addresses$B_LABEL")"
: >"$ZONE"
kill -HUP "$PX_PID"
wait_until 10 gen_is 4 || fail "reload: a name that fails keeps its addresses"
assert_eq "reload: its last addresses are kept" 1 \
    "$(metric "gridfront_upstream_addresses$B_LABEL")"
assert_contains "reload: which is logged" "$(cat "$PX_LOG")" \
    "keeping its 1 last known address(es)"
fails=$(metric "gridfront_upstream_resolve_failures_total$B_LABEL")
assert_ge "reload: failures are counted across reloads ($fails)" \
    "${fails:-0}" 2
assert_eq "reload: and it serves" "a=3 b=0 other=0" "$(spread 3)"
sed -i "s|backends: \[http://$NAME:$BP\]|backends: [http://$NAME:$BP, http://new.gftest:$BP]|" \
    "$WORK/dns.yaml"
kill -HUP "$PX_PID"
wait_until 10 grep -q "reload refused: .*cannot resolve 'new.gftest'" "$PX_LOG" ||
    fail "reload: a new name with no address at all is refused"
assert_eq "reload: the refused one leaves generation 4 in force" 4 \
    "$(metric gridfront_config_generation)"

if command -v promtool >/dev/null; then
	curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" \
	    >"$WORK/metrics.txt"
	assert_true "promtool accepts the metrics" \
	    promtool check metrics <"$WORK/metrics.txt"
fi

stop_proxy
finish
