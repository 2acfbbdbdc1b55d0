#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The alerting rules (issue 16): deploy/monitoring/gridfront.rules.yaml
# passes `promtool check rules`; its unit tests
# (tests/ops/alerts/gridfront.rules.test.yaml) pass `promtool test rules`
# and show every alert both firing and silent; each alert has a severity
# and a summary and description; the PrometheusRule carries the same
# groups; and every metric name the rules use is one that a running
# gridfront which served traffic exports.

. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/opslib.sh"
. "$(dirname "$0")/monlib.sh"

command -v promtool >/dev/null || die "promtool is not installed (Debian package prometheus)"
RULES=$MON_DIR/gridfront.rules.yaml
UT=$OPS_DIR/alerts/gridfront.rules.test.yaml

if promtool check rules "$RULES" >"$WORK/check.out" 2>&1; then
	pass "promtool check rules: $(grep -o '[0-9]* rules found' "$WORK/check.out")"
else fail "promtool check rules" "$(tail -n 10 "$WORK/check.out")"; fi
if promtool test rules "$UT" >"$WORK/test.out" 2>&1; then
	pass "promtool test rules"
else fail "promtool test rules" "$(head -n 40 "$WORK/test.out")"; fi

# Structure: the listed alerts exist, each is tested firing and silent,
# has severity/summary/description, the PrometheusRule has the same
# groups.  One line per problem; "EXPR <expr>" lines for the name check.
cat >"$WORK/rulecheck.py" <<'PY'
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
ut = yaml.safe_load(open(sys.argv[2]))
pr = yaml.safe_load(open(sys.argv[3]))
want = ["GridfrontCRLExpiringSoon", "GridfrontCRLExpiringVerySoon",
        "GridfrontCRLExpired", "GridfrontCAWithoutValidCRL",
        "GridfrontHostCertificateExpiring",
        "GridfrontHostCertificateExpiringSoon",
        "GridfrontCRICUsersFileStale", "GridfrontConfigReloadFailed",
        "GridfrontFileReloadFailed", "GridfrontAllBackendsDown",
        "GridfrontHigh5xxRatio", "GridfrontHighHandshakeFailureRatio"]
alerts = {}
for g in rules["groups"]:
    for r in g["rules"]:
        if "alert" in r:
            alerts[r["alert"]] = r
        print("EXPR " + " ".join(r["expr"].split()))
for a in want:
    if a not in alerts:
        print("PROBLEM missing alert %s" % a)
for a, r in alerts.items():
    if r.get("labels", {}).get("severity") not in ("warning", "critical"):
        print("PROBLEM %s: severity is not warning or critical" % a)
    for k in ("summary", "description"):
        if not r.get("annotations", {}).get(k):
            print("PROBLEM %s: no %s" % (a, k))
fires, silent = set(), set()
for t in ut["tests"]:
    names = [re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", s["series"]).group(0)
             for s in t.get("input_series", [])]
    for e in t.get("alert_rule_test", []):
        a = e["alertname"]
        exp = e.get("exp_alerts") or []
        if exp:
            fires.add(a)
        m = re.search(r"gridfront_[a-z0-9_]+", alerts.get(a, {}).get("expr", ""))
        # Silent: nothing expected, or fewer alerts than input series of
        # the alert's metric (the others are shown not firing).
        if not exp or (m and len(exp) < names.count(m.group(0))):
            silent.add(a)
for a in alerts:
    if a not in fires:
        print("PROBLEM %s: no unit test shows it firing" % a)
    if a not in silent:
        print("PROBLEM %s: no unit test shows it silent" % a)
if pr.get("kind") != "PrometheusRule" or \
        pr.get("apiVersion") != "monitoring.coreos.com/v1":
    print("PROBLEM prometheusrule.yaml: not a monitoring.coreos.com/v1 PrometheusRule")
if pr.get("spec", {}).get("groups") != rules["groups"]:
    print("PROBLEM prometheusrule.yaml: spec.groups differ from gridfront.rules.yaml")
print("ALERTS %d" % len(alerts))
PY
/usr/bin/python3 "$WORK/rulecheck.py" "$RULES" "$UT" "$MON_DIR/prometheusrule.yaml" \
    >"$WORK/struct.out" 2>&1
assert_eq "rules: every listed alert present, tested firing and silent, labelled; PrometheusRule in step" "" \
    "$(grep -v -E '^(EXPR|ALERTS) ' "$WORK/struct.out")"
assert_ge "rules: alerts defined" "$(awk '/^ALERTS/{print $2}' "$WORK/struct.out")" 12

# Every metric name in the rules is exported by a gridfront after traffic.
mon_scrape "$WORK/metrics.txt"
sed -n 's/^EXPR //p' "$WORK/struct.out" >"$WORK/exprs.txt"
assert_ge "rules: expressions found" "$(wc -l <"$WORK/exprs.txt")" 12
assert_eq "rules: every metric name is exported by gridfront" "" \
    "$(mon_names "$WORK/metrics.txt" "$WORK/exprs.txt" | tr '\n' ' ')"
# The name check itself catches a name gridfront does not export.
echo 'rate(gridfront_no_such_metric_total{code="gridfront_x"}[5m])' >"$WORK/bad.txt"
assert_eq "rules: the name check catches an unknown name" "gridfront_no_such_metric_total" \
    "$(mon_names "$WORK/metrics.txt" "$WORK/bad.txt")"
finish
