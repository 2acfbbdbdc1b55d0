# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
"""
The eight Gatekeeper rules of deploy/gatekeeper, restated in Python.

No Rego engine can be installed here (Debian has no OPA; npm has only
OPA's WebAssembly runner, which needs `opa build` to compile policies, and
no Rego interpreter), so tests/deploy/check.py checks each rule's
conditions with these functions instead.  Each mirrors its template's Rego
clause by clause, reads its parameters from the rendered Constraint, and
returns the violation messages (empty: admitted).  gk_matches() mirrors the
Constraint's match block.  A model of the Vault Agent injector
(inject_vault_agent) turns a workload's pod template into the Pod that
Gatekeeper really sees at admission, sidecars included.
"""

import copy
import re

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                  "Job", "ReplicationController"}

# ------------------------------------------------------------ quantities


def cpu_cores(q):
    """CPU quantity in cores, as the templates' cpu_cores(): None when the
    Rego would leave it undefined."""
    if isinstance(q, bool):
        return None
    if isinstance(q, (int, float)):
        return float(q)
    if isinstance(q, str):
        try:
            if q.endswith("m"):
                return float(q[:-1]) / 1000
            return float(q)
        except ValueError:
            return None
    return None


_MEM = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40,
        "Pi": 2 ** 50, "Ei": 2 ** 60, "K": 10 ** 3, "k": 10 ** 3,
        "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15,
        "E": 10 ** 18, "": 1}


def mem_bytes(q):
    """Memory quantity in bytes, as units.parse_bytes() reads the forms
    Kubernetes uses (512Mi, 1G, 1048576)."""
    if isinstance(q, bool):
        return None
    if isinstance(q, (int, float)):
        return float(q)
    if not isinstance(q, str):
        return None
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([KkMGTPE]i?|)", q)
    if not m or (m.group(2) == "ki"):
        return None
    return float(m.group(1)) * _MEM[m.group(2)]


# -------------------------------------------------------------- pod spec


def pod_spec(obj):
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind in WORKLOAD_KINDS:
        return (spec.get("template") or {}).get("spec")
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {})
                .get("template") or {}).get("spec")
    return None


def containers(obj):
    spec = pod_spec(obj) or {}
    return (list(spec.get("containers") or [])
            + list(spec.get("initContainers") or [])
            + list(spec.get("ephemeralContainers") or []))


# ----------------------------------------------------------------- rules


def allowed_repos(obj, p):
    out = []
    for c in containers(obj):
        if not any(c.get("image", "").startswith(r) for r in p["repos"]):
            out.append("container <%s> image <%s> is not from an allowed "
                       "repository" % (c.get("name"), c.get("image")))
    return out


def _resource_rule(field):
    def rule(obj, p):
        out = []
        for c in containers(obj):
            res = (c.get("resources") or {}).get(field) or {}
            for r in ("cpu", "memory"):
                if res.get(r) is None or res.get(r) is False:
                    out.append("container <%s> has no %s %s"
                               % (c.get("name"), r, field))
            if "cpu" in res and cpu_cores(res["cpu"]) is None:
                out.append("container <%s> CPU %s is not a quantity"
                           % (c.get("name"), field))
            if "memory" in res and mem_bytes(res["memory"]) is None:
                out.append("container <%s> memory %s is not a quantity"
                           % (c.get("name"), field))
            cpu = cpu_cores(res.get("cpu"))
            if cpu is not None and cpu > cpu_cores(p["cpu"]):
                out.append("container <%s> CPU %s <%s> is above <%s>"
                           % (c.get("name"), field, res["cpu"], p["cpu"]))
            mem = mem_bytes(res.get("memory"))
            if mem is not None and mem > mem_bytes(p["memory"]):
                out.append("container <%s> memory %s <%s> is above <%s>"
                           % (c.get("name"), field, res["memory"],
                              p["memory"]))
        return out
    return rule


container_limits = _resource_rule("limits")
container_requests = _resource_rule("requests")


def _too_high(lim, req, most):
    if req == 0:
        return lim > 0
    return lim / req > most


def limit_request_ratio(obj, p):
    out = []
    for c in containers(obj):
        res = c.get("resources") or {}
        lim, req = res.get("limits") or {}, res.get("requests") or {}
        for r, parse, key in (("cpu", cpu_cores, "cpuRatio"),
                              ("memory", mem_bytes, "memoryRatio")):
            lv = parse(lim.get(r)) if r in lim else None
            rv = parse(req.get(r)) if r in req else None
            if lv is None or rv is None:
                continue
            if _too_high(lv, rv, p[key]):
                out.append("container <%s> %s limit is more than %s times "
                           "its request" % (c.get("name"), r, p[key]))
    return out


def no_anonymous_bindings(obj, p):
    return ["%s <%s> binds %s <%s>" % (obj["kind"], obj["metadata"]["name"],
                                       s.get("kind"), s.get("name"))
            for s in obj.get("subjects") or []
            if s.get("name") in p["subjects"]]


def replica_limits(obj, p):
    def in_range(n):
        return p["minReplicas"] <= n <= p["maxReplicas"]
    spec = obj.get("spec") or {}
    if obj["kind"] != "HorizontalPodAutoscaler":
        n = spec.get("replicas", 1)
        return [] if in_range(n) else [
            "%s <%s> has %s replicas" % (obj["kind"],
                                         obj["metadata"]["name"], n)]
    return ["HorizontalPodAutoscaler <%s> has %s %s"
            % (obj["metadata"]["name"], f, spec.get(f, 1))
            for f in ("minReplicas", "maxReplicas")
            if not in_range(spec.get(f, 1))]


def required_probes(obj, p):
    def exempt(image):
        for e in p.get("exemptImages") or []:
            if e.endswith("*") and image.startswith(e[:-1]):
                return True
            if not e.endswith("*") and image == e:
                return True
        return False
    out = []
    for c in (pod_spec(obj) or {}).get("containers") or []:
        if exempt(c.get("image", "")):
            continue
        for probe in p["probes"]:
            if not any((c.get(probe) or {}).get(t) for t in p["probeTypes"]):
                out.append("container <%s> has no %s" % (c.get("name"), probe))
    return out


def host_namespaces(obj, p):
    spec = pod_spec(obj) or {}
    return ["pod spec sets %s: true" % f for f in ("hostPID", "hostIPC")
            if spec.get(f) is True]


RULES = {
    "GridfrontAllowedRepos": allowed_repos,
    "GridfrontContainerLimits": container_limits,
    "GridfrontContainerRequests": container_requests,
    "GridfrontLimitRequestRatio": limit_request_ratio,
    "GridfrontNoAnonymousBindings": no_anonymous_bindings,
    "GridfrontReplicaLimits": replica_limits,
    "GridfrontRequiredProbes": required_probes,
    "GridfrontHostNamespaces": host_namespaces,
}

# ----------------------------------------------------------------- match


def selector_matches(selector, labels):
    """A Kubernetes LabelSelector against a label map."""
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError("unknown selector operator %r" % op)
    return True


def gk_matches(constraint, obj):
    """Whether the Constraint's spec.match selects obj."""
    match = constraint["spec"].get("match") or {}
    api = obj["apiVersion"]
    group = api.split("/")[0] if "/" in api else ""
    kinds = match.get("kinds")
    if kinds is not None and not any(
            (group in k.get("apiGroups", []) or "*" in k.get("apiGroups", []))
            and (obj["kind"] in k.get("kinds", []) or "*" in k.get("kinds",
                                                                   []))
            for k in kinds):
        return False
    ns = obj["metadata"].get("namespace")
    if match.get("namespaces") is not None and ns not in match["namespaces"]:
        return False
    if ns is not None and ns in (match.get("excludedNamespaces") or []):
        return False
    if "labelSelector" in match and not selector_matches(
            match["labelSelector"], obj["metadata"].get("labels")):
        return False
    return True


def evaluate(constraint, obj):
    """Violations of one Constraint for one object ([] if not matched)."""
    if not gk_matches(constraint, obj):
        return []
    params = constraint["spec"].get("parameters") or {}
    return RULES[constraint["kind"]](obj, params)


# ---------------------------------------------------- Vault Agent injector

# The injector's own defaults, for annotations left out.
AGENT_DEFAULTS = {"agent-image": "hashicorp/vault:1.16.1",
                  "agent-limits-cpu": "500m", "agent-limits-mem": "128Mi",
                  "agent-requests-cpu": "250m", "agent-requests-mem": "64Mi",
                  "agent-run-as-user": "100", "agent-run-as-group": "1000"}


def inject_vault_agent(pod):
    """The Pod as the Vault Agent injector's mutating webhook leaves it:
    an init container (unless agent-pre-populate is false) and a sidecar
    (unless agent-pre-populate-only), with image, resources and user from
    the annotations.  A model of the injector, not the injector."""
    pod = copy.deepcopy(pod)
    ann = pod["metadata"].get("annotations") or {}

    def a(name):
        return ann.get("vault.hashicorp.com/" + name, AGENT_DEFAULTS.get(name))
    if a("agent-inject") != "true":
        return pod

    def agent(name):
        return {
            "name": name,
            "image": a("agent-image"),
            "resources": {
                "limits": {"cpu": a("agent-limits-cpu"),
                           "memory": a("agent-limits-mem")},
                "requests": {"cpu": a("agent-requests-cpu"),
                             "memory": a("agent-requests-mem")},
            },
            "securityContext": {
                "runAsUser": int(a("agent-run-as-user")),
                "runAsGroup": int(a("agent-run-as-group")),
                "runAsNonRoot": True,
                "readOnlyRootFilesystem": True,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
    spec = pod["spec"]
    if a("agent-pre-populate") != "false":
        spec.setdefault("initContainers", []).append(agent("vault-agent-init"))
    if a("agent-pre-populate-only") != "true":
        spec["containers"].append(agent("vault-agent"))
    return pod


def pod_from(workload, namespace):
    """The Pod a workload's controller creates (before any webhook)."""
    if workload["kind"] == "CronJob":
        tmpl = workload["spec"]["jobTemplate"]["spec"]["template"]
        extra = {"job-name": workload["metadata"]["name"] + "-29000000",
                 "batch.kubernetes.io/job-name":
                     workload["metadata"]["name"] + "-29000000"}
    else:
        tmpl = workload["spec"]["template"]
        extra = {}
    meta = copy.deepcopy(tmpl.get("metadata") or {})
    meta["labels"] = dict(meta.get("labels") or {}, **extra)
    meta["name"] = workload["metadata"]["name"] + "-pod"
    meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": copy.deepcopy(tmpl["spec"])}
