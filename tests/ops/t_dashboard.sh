#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The Grafana dashboard (issue 16): deploy/monitoring/gridfront-dashboard.json
# is valid JSON with the panels the issue lists (requests by route and
# status class, p50/p90/p99 latency by route, TLS handshakes and failures,
# auth denials by reason, verify-cache hit ratio, upstream reuse and
# backend health, reloads, certificate and CRL expiry, connections per
# worker), panels that do not overlap, and a Prometheus target in each.
# Every PromQL expression (Grafana's $variables replaced by plain values)
# parses: they go through `promtool check rules` as recording rules.  Every
# metric name they and the instance variable use is exported by a running
# gridfront that served traffic (tests/ops/monlib.sh).

. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/opslib.sh"
. "$(dirname "$0")/monlib.sh"

command -v promtool >/dev/null || die "promtool is not installed (Debian package prometheus)"
DASH=$MON_DIR/gridfront-dashboard.json

cat >"$WORK/dash.py" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
out_rules, out_exprs = sys.argv[2], sys.argv[3]
problems = []
panels = []
def walk(ps):
    for p in ps:
        panels.append(p)
        walk(p.get("panels", []))
walk(d.get("panels", []))
if not d.get("uid") or not d.get("title"):
    problems.append("no uid or title")
# Grafana's variables, as Prometheus would see them after substitution.
subst = [("$__rate_interval", "5m"), ("$__interval", "1m"),
         ("$__range", "1h"), ("${instance}", ".*"), ("$instance", ".*")]
exprs = []
boxes = []
for p in panels:
    if p.get("type") == "row":
        continue
    t = p.get("title", "")
    g = p.get("gridPos", {})
    if not all(k in g for k in ("x", "y", "w", "h")) or g["x"] + g["w"] > 24:
        problems.append("%s: bad gridPos %s" % (t, g))
    else:
        boxes.append((t, g))
    if p.get("datasource", {}).get("type") != "prometheus":
        problems.append("%s: datasource is not prometheus" % t)
    if not p.get("targets"):
        problems.append("%s: no targets" % t)
    for tg in p.get("targets", []):
        e = tg.get("expr", "")
        if not e.strip():
            problems.append("%s: empty expression" % t)
        for a, b in subst:
            e = e.replace(a, b)
        if "$" in e:
            problems.append("%s: unknown variable in %s" % (t, e))
        exprs.append(e)
for i, (t1, a) in enumerate(boxes):
    for t2, b in boxes[i + 1:]:
        if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and \
                a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]:
            problems.append("panels overlap: %s / %s" % (t1, t2))
for v in d.get("templating", {}).get("list", []):
    q = v.get("query")
    if isinstance(q, dict):
        q = q.get("query", "")
    m = re.match(r"label_values\((\w+)", q or "")
    if m:
        exprs.append(m.group(1))
text = "\n".join(exprs)
need = {
    "requests by route and status class": r"sum by \(route, code\) \(rate\(gridfront_requests_total",
    "latency p50": r"histogram_quantile\(0\.5,.*gridfront_request_duration_seconds_bucket",
    "latency p90": r"histogram_quantile\(0\.9,.*gridfront_request_duration_seconds_bucket",
    "latency p99": r"histogram_quantile\(0\.99,.*gridfront_request_duration_seconds_bucket",
    "TLS handshakes": r"gridfront_tls_handshakes_total",
    "TLS handshake failures by reason": r"by \(reason\) \(rate\(gridfront_tls_handshake_failures_total",
    "auth denials by reason": r"by \(reason\) \(rate\(gridfront_auth_denied_total",
    "verify-cache hit ratio": r"gridfront_verify_cache_hits_total.*gridfront_verify_cache_misses_total",
    "upstream pool reuse": r"gridfront_upstream_reuses_total.*gridfront_upstream_connects_total",
    "backend health": r"gridfront_upstream_up",
    "reloads": r"gridfront_config_reloads_total",
    "host certificate expiry": r"gridfront_host_certificate_expiry_seconds",
    "CRL expiry": r"gridfront_crl_next_update_seconds",
    "connections per worker": r"by \(instance, worker\) \(gridfront_worker_connections_active",
}
for k, rx in need.items():
    if not re.search(rx, text):
        problems.append("no panel for %s" % k)
with open(out_exprs, "w") as f:
    f.write(text + "\n")
with open(out_rules, "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        f.write("      - record: gridfront_dashboard:expr_%d\n" % i)
        f.write("        expr: %s\n" % json.dumps(e))
for p in problems:
    print("PROBLEM " + p)
print("PANELS %d" % sum(1 for p in panels if p.get("type") != "row"))
print("EXPRS %d" % len(exprs))
PY
/usr/bin/python3 "$WORK/dash.py" "$DASH" "$WORK/dash-rules.yaml" "$WORK/exprs.txt" \
    >"$WORK/dash.out" 2>&1
assert_eq "dashboard: JSON, the listed panels, layout, targets" "" \
    "$(grep -v -E '^(PANELS|EXPRS) ' "$WORK/dash.out")"
assert_ge "dashboard: panels" "$(awk '/^PANELS/{print $2}' "$WORK/dash.out")" 15
assert_ge "dashboard: expressions" "$(awk '/^EXPRS/{print $2}' "$WORK/dash.out")" 20
if promtool check rules "$WORK/dash-rules.yaml" >"$WORK/check.out" 2>&1; then
	pass "dashboard: every expression parses (promtool check rules)"
else fail "dashboard: every expression parses" "$(tail -n 10 "$WORK/check.out")"; fi

# The parse check itself catches a broken expression.
printf 'groups:\n  - name: x\n    rules:\n      - record: x:y\n        expr: "sum by (route (rate(gridfront_requests_total[5m]))"\n' \
    >"$WORK/bad-rules.yaml"
if promtool check rules "$WORK/bad-rules.yaml" >/dev/null 2>&1; then
	fail "dashboard: promtool refuses a broken expression"
else pass "dashboard: promtool refuses a broken expression"; fi

mon_scrape "$WORK/metrics.txt"
assert_eq "dashboard: every metric name is exported by gridfront" "" \
    "$(mon_names "$WORK/metrics.txt" "$WORK/exprs.txt" | tr '\n' ' ')"
assert_eq "dashboard: per-worker connections, one series per worker" 2 \
    "$(grep -c '^gridfront_worker_connections_active{' "$WORK/metrics.txt")"
finish
