# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
"""
Tests for deploy/ (issue 7), run by tests/deploy/run.sh.

They render the manifests (kustomize overlays with render.py, checked
against `kubectl kustomize` when kubectl is installed; the Gatekeeper
chart with render.py's Helm subset), then check that:
  - every object is well-formed Kubernetes YAML of a known kind, with no
    misspelt field in the parts we write by hand;
  - gridfront's pods satisfy each of the eight Gatekeeper rules, evaluated
    in Python (gatekeeper_rules.py: no Rego engine is installable here),
    and that each rule does reject a broken copy;
  - NetworkPolicy selectors select the pods, and the ports they open are
    exactly the ports in gridfront's config;
  - the files gridfront's config reads are exactly the files the Vault
    Agent annotations write, under the names deploy-secrets.sh creates;
  - deploy-secrets.sh and cric-fetch.sh behave, run against stand-in
    vault, kubectl and curl commands (tests/deploy/stubs/);
  - yamllint (deploy/.yamllint) and, when installed, shellcheck pass.
Prints one line per test and ends with "N passed, M failed".
"""

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import gatekeeper_rules as gk  # noqa: E402
import render  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
KDIR = os.path.join(DEPLOY, "kubernetes")
OVERLAYS = ["prod", "preprod"]
STUBS = os.path.join(HERE, "stubs")
DEPLOY_SECRETS = os.path.join(DEPLOY, "vault", "deploy-secrets.sh")
CRIC_FETCH = os.path.join(DEPLOY, "cric", "cric-fetch.sh")
VAULT = "vault.hashicorp.com/"

TESTS = []
NOTES = []


def test(name):
    def register(fn):
        TESTS.append((name, fn))
        return fn
    return register


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def note(msg):
    NOTES.append(msg)
    print("# " + msg)


# ---------------------------------------------------------------- render

RENDERED = {}      # overlay -> list of objects
RENDER_ERRORS = {}


def rendered(overlay):
    if overlay in RENDER_ERRORS:
        raise Fail("render failed: %s" % RENDER_ERRORS[overlay])
    if overlay not in RENDERED:
        path = (os.path.join(KDIR, "base") if overlay == "base"
                else os.path.join(KDIR, "overlays", overlay))
        try:
            RENDERED[overlay] = render.kustomize(path)
        except Exception as e:  # noqa: BLE001 - reported as a failure
            RENDER_ERRORS[overlay] = "%s: %s" % (type(e).__name__, e)
            raise Fail("render failed: %s" % RENDER_ERRORS[overlay])
    return RENDERED[overlay]


def find(objs, kind, name=None):
    hits = [o for o in objs if o["kind"] == kind
            and (name is None or o["metadata"]["name"] == name)]
    check(hits, "no %s%s in the rendered manifests"
          % (kind, " " + name if name else ""))
    return hits[0] if name else hits


def gridfront_deployment(objs):
    return find(objs, "Deployment", "gridfront")


def cric_cronjob(objs):
    return find(objs, "CronJob", "gridfront-cric")


def jwks_cronjob(objs):
    return find(objs, "CronJob", "gridfront-jwks")


def jobs(objs):
    """The CronJobs: CRIC (users.json) and JWKS (token key sets)."""
    return (cric_cronjob(objs), jwks_cronjob(objs))


def gridfront_container(dep):
    cs = [c for c in dep["spec"]["template"]["spec"]["containers"]
          if c["name"] == "gridfront"]
    check(len(cs) == 1, "Deployment has no container named gridfront")
    return cs[0]


def config_of(objs, dep):
    """gridfront's parsed config: the file named by -c in the container's
    args, found through its volume mount in the ConfigMap it mounts."""
    c = gridfront_container(dep)
    argv = (c.get("command") or []) + (c.get("args") or [])
    check("-c" in argv, "gridfront is not started with -c FILE")
    path = argv[argv.index("-c") + 1]
    podspec = dep["spec"]["template"]["spec"]
    mount = [m for m in c.get("volumeMounts") or []
             if m["mountPath"].rstrip("/") == os.path.dirname(path)]
    check(mount, "no volume is mounted at %s" % os.path.dirname(path))
    vol = [v for v in podspec["volumes"] if v["name"] == mount[0]["name"]]
    check(vol and "configMap" in vol[0], "%s is not a ConfigMap volume"
          % os.path.dirname(path))
    cm = find(objs, "ConfigMap", vol[0]["configMap"]["name"])
    key = os.path.basename(path)
    check(key in cm.get("data", {}), "ConfigMap %s has no key %s"
          % (cm["metadata"]["name"], key))
    return path, yaml.safe_load(cm["data"][key])


def container_port(dep, port):
    """Resolve a named or numbered port against the pod's containers."""
    for c in dep["spec"]["template"]["spec"]["containers"]:
        for p in c.get("ports") or []:
            if port in (p.get("name"), p["containerPort"]):
                return p["containerPort"]
    raise Fail("port %r is not a container port" % (port,))


def addr_port(address):
    return int(str(address).rsplit(":", 1)[1])


def listener_ports(config):
    """Internet-facing ports: every listen entry (TLS or redirect)."""
    return {addr_port(entry["address"]) for entry in config["listen"]}


def backend_ports(config):
    ports = set()
    for route in config["routes"]:
        for url in route["backends"]:
            m = re.fullmatch(r"http://([^/:]+):(\d+)/?", url)
            check(m, "backend %r is not http://host:port" % url)
            ports.add(int(m.group(2)))
    return ports


# --------------------------------------------------- kubernetes structure

KNOWN = {
    ("v1", "ServiceAccount"), ("v1", "Service"), ("v1", "ConfigMap"),
    ("apps/v1", "Deployment"), ("batch/v1", "CronJob"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
}
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

KEYS = {
    "object": {"apiVersion", "kind", "metadata", "spec", "data",
               "automountServiceAccountToken"},
    "metadata": {"name", "namespace", "labels", "annotations"},
    "Deployment": {"replicas", "revisionHistoryLimit", "minReadySeconds",
                   "strategy", "selector", "template", "paused",
                   "progressDeadlineSeconds"},
    "CronJob": {"schedule", "timeZone", "concurrencyPolicy",
                "startingDeadlineSeconds", "successfulJobsHistoryLimit",
                "failedJobsHistoryLimit", "jobTemplate", "suspend"},
    "Job": {"backoffLimit", "activeDeadlineSeconds",
            "ttlSecondsAfterFinished", "template", "completions",
            "parallelism"},
    "Service": {"type", "externalTrafficPolicy", "selector", "ports",
                "internalTrafficPolicy", "loadBalancerSourceRanges",
                "sessionAffinity", "ipFamilyPolicy", "clusterIP"},
    "HorizontalPodAutoscaler": {"scaleTargetRef", "minReplicas",
                                "maxReplicas", "metrics", "behavior"},
    "PodDisruptionBudget": {"maxUnavailable", "minAvailable", "selector",
                            "unhealthyPodEvictionPolicy"},
    "NetworkPolicy": {"podSelector", "policyTypes", "ingress", "egress"},
    "podspec": {"serviceAccountName", "automountServiceAccountToken",
                "enableServiceLinks", "hostPID", "hostIPC", "hostNetwork",
                "terminationGracePeriodSeconds", "securityContext",
                "nodeSelector", "topologySpreadConstraints", "affinity",
                "tolerations", "containers", "initContainers", "volumes",
                "restartPolicy", "priorityClassName", "dnsPolicy"},
    "container": {"name", "image", "imagePullPolicy", "command", "args",
                  "env", "envFrom", "ports", "readinessProbe",
                  "livenessProbe", "startupProbe", "lifecycle", "resources",
                  "securityContext", "volumeMounts", "workingDir"},
    "podsecurity": {"runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup",
                    "seccompProfile", "supplementalGroups", "sysctls",
                    "fsGroupChangePolicy"},
    "containersecurity": {"allowPrivilegeEscalation", "privileged",
                          "readOnlyRootFilesystem", "runAsNonRoot",
                          "runAsUser", "runAsGroup", "capabilities",
                          "seccompProfile"},
    "probe": {"httpGet", "tcpSocket", "exec", "grpc", "initialDelaySeconds",
              "periodSeconds", "timeoutSeconds", "failureThreshold",
              "successThreshold"},
    "port": {"name", "containerPort", "protocol"},
    "mount": {"name", "mountPath", "readOnly", "subPath"},
    "volume": {"name", "configMap", "emptyDir", "hostPath", "projected",
               "secret"},
    "netpolrule": {"from", "to", "ports"},
    "netpolpeer": {"ipBlock", "namespaceSelector", "podSelector"},
    "netpolport": {"protocol", "port", "endPort"},
}


def keys_ok(d, kind, where, problems):
    extra = set(d) - KEYS[kind]
    if extra:
        problems.append("%s: unknown field(s) %s" % (where, sorted(extra)))


def check_podspec(spec, where, problems):
    keys_ok(spec, "podspec", where, problems)
    keys_ok(spec.get("securityContext") or {}, "podsecurity",
            where + ".securityContext", problems)
    names = set()
    for c in (spec.get("initContainers") or []) + spec["containers"]:
        cw = "%s.containers[%s]" % (where, c.get("name"))
        keys_ok(c, "container", cw, problems)
        if not DNS_LABEL.fullmatch(c.get("name", "")):
            problems.append(cw + ": bad container name")
        if c.get("name") in names:
            problems.append(cw + ": duplicate container name")
        names.add(c.get("name"))
        if not c.get("image"):
            problems.append(cw + ": no image")
        keys_ok(c.get("securityContext") or {}, "containersecurity",
                cw + ".securityContext", problems)
        pnames = set()
        for p in c.get("ports") or []:
            keys_ok(p, "port", cw + ".ports", problems)
            if not isinstance(p.get("containerPort"), int):
                problems.append(cw + ": containerPort is not a number")
            n = p.get("name")
            if n is not None and (len(n) > 15 or not DNS_LABEL.fullmatch(n)
                                  or n in pnames):
                problems.append(cw + ": bad or repeated port name %r" % n)
            pnames.add(n)
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in c:
                keys_ok(c[probe], "probe", cw + "." + probe, problems)
                handlers = [h for h in ("httpGet", "tcpSocket", "exec",
                                        "grpc") if h in c[probe]]
                if len(handlers) != 1:
                    problems.append("%s.%s: needs exactly one handler"
                                    % (cw, probe))
        vnames = {v["name"] for v in spec.get("volumes") or []}
        for m in c.get("volumeMounts") or []:
            keys_ok(m, "mount", cw + ".volumeMounts", problems)
            if m["name"] not in vnames:
                problems.append("%s: mounts unknown volume %s"
                                % (cw, m["name"]))
        for r in ("limits", "requests"):
            for q in ((c.get("resources") or {}).get(r) or {}).items():
                parse = gk.cpu_cores if q[0] == "cpu" else gk.mem_bytes
                if parse(q[1]) is None:
                    problems.append("%s: %s %s=%r is not a quantity"
                                    % (cw, r, q[0], q[1]))
    for v in spec.get("volumes") or []:
        keys_ok(v, "volume", where + ".volumes", problems)
        if len(set(v) - {"name"}) != 1:
            problems.append("%s.volumes[%s]: needs exactly one source"
                            % (where, v["name"]))


def check_object(o, overlay, problems):
    where = "%s %s/%s" % (overlay, o.get("kind"),
                          (o.get("metadata") or {}).get("name"))
    for field in ("apiVersion", "kind", "metadata"):
        if field not in o:
            problems.append("%s: no %s" % (where, field))
            return
    if (o["apiVersion"], o["kind"]) not in KNOWN:
        problems.append("%s: unknown apiVersion/kind %s/%s"
                        % (where, o["apiVersion"], o["kind"]))
    keys_ok(o, "object", where, problems)
    keys_ok(o["metadata"], "metadata", where + ".metadata", problems)
    name = o["metadata"].get("name", "")
    if len(name) > 253 or not DNS_SUBDOMAIN.fullmatch(name):
        problems.append("%s: bad name %r" % (where, name))
    ns = o["metadata"].get("namespace")
    if overlay == "base" and ns:
        problems.append("%s: the base must not set a namespace" % where)
    if overlay != "base" and not ns:
        problems.append("%s: no namespace after the overlay" % where)
    for k, v in (o["metadata"].get("labels") or {}).items():
        if not isinstance(v, str) or len(v) > 63 or \
                not LABEL_VALUE.fullmatch(v):
            problems.append("%s: bad label value %s=%r" % (where, k, v))
    for k, v in (o["metadata"].get("annotations") or {}).items():
        if not isinstance(v, str):
            problems.append("%s: annotation %s is not a string" % (where, k))
    spec = o.get("spec")
    if o["kind"] in KEYS:
        keys_ok(spec or {}, o["kind"], where + ".spec", problems)
    if o["kind"] == "Deployment":
        sel = spec["selector"]["matchLabels"]
        tl = spec["template"]["metadata"]["labels"]
        if any(tl.get(k) != v for k, v in sel.items()):
            problems.append(where + ": selector does not match its template")
        check_podspec(spec["template"]["spec"], where, problems)
    if o["kind"] == "CronJob":
        if len(spec["schedule"].split()) != 5:
            problems.append(where + ": schedule is not 5 cron fields")
        keys_ok(spec["jobTemplate"]["spec"], "Job", where + ".job", problems)
        check_podspec(spec["jobTemplate"]["spec"]["template"]["spec"], where,
                      problems)
    if o["kind"] == "NetworkPolicy":
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            keys_ok(rule, "netpolrule", where + " rule", problems)
            for peer in rule.get("from", []) + rule.get("to", []):
                keys_ok(peer, "netpolpeer", where + " peer", problems)
            for port in rule.get("ports", []):
                keys_ok(port, "netpolport", where + " port", problems)
        for t in spec.get("policyTypes", []):
            if t not in ("Ingress", "Egress"):
                problems.append("%s: bad policyType %s" % (where, t))


@test("kustomize render of base and overlays")
def t_render():
    for overlay in ["base"] + OVERLAYS:
        objs = rendered(overlay)
        kinds = sorted({o["kind"] for o in objs})
        check(len(objs) >= 10, "%s: only %d objects" % (overlay, len(objs)))
        check({"Deployment", "Service", "ServiceAccount", "ConfigMap",
               "HorizontalPodAutoscaler", "PodDisruptionBudget",
               "NetworkPolicy", "CronJob"} <= set(kinds),
              "%s: kinds missing, have %s" % (overlay, kinds))


@test("kubectl kustomize renders the same objects")
def t_kubectl():
    kubectl = shutil.which("kubectl")
    if not kubectl:
        note("kubectl not installed: render.py not cross-checked "
             "against kustomize")
        return
    r = subprocess.run([kubectl, "kustomize", "--help"], capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        note("this kubectl has no kustomize: render.py not cross-checked")
        return
    for overlay in ["base"] + OVERLAYS:
        path = (os.path.join(KDIR, "base") if overlay == "base"
                else os.path.join(KDIR, "overlays", overlay))
        r = subprocess.run([kubectl, "kustomize", path], capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0, "kubectl kustomize %s: %s"
              % (overlay, r.stderr.strip()))
        theirs = [d for d in yaml.safe_load_all(r.stdout) if d]

        def key(d):
            return (d["kind"], d["metadata"].get("namespace", ""),
                    d["metadata"]["name"])
        mine = {key(d): d for d in rendered(overlay)}
        theirs = {key(d): d for d in theirs}
        check(set(mine) == set(theirs), "%s: objects differ: %s"
              % (overlay, sorted(set(mine) ^ set(theirs))))
        for k in mine:
            check(mine[k] == theirs[k], "%s: %s differs from kustomize's"
                  % (overlay, "/".join(k)))


@test("every object is well-formed Kubernetes YAML of a known kind")
def t_objects():
    problems = []
    for overlay in ["base"] + OVERLAYS:
        objs = rendered(overlay)
        seen = set()
        for o in objs:
            check_object(o, overlay, problems)
            k = (o.get("kind"), o["metadata"].get("namespace"),
                 o["metadata"].get("name"))
            if k in seen:
                problems.append("%s: duplicate %s" % (overlay, k))
            seen.add(k)
    ex = render.load_docs(os.path.join(DEPLOY, "examples",
                                       "backend-networkpolicy.yaml"))
    for o in ex:
        check_object(o, "example", problems)
    check(not problems, "; ".join(problems))


@test("structure check rejects a misspelt field")
def t_objects_negative():
    dep = copy.deepcopy(gridfront_deployment(rendered("prod")))
    c = gridfront_container(dep)
    c["readinessprobe"] = c.pop("readinessProbe")
    dep["spec"]["template"]["spec"]["hostpid"] = False
    problems = []
    check_object(dep, "prod", problems)
    check(len(problems) == 2, "expected 2 problems, got %s" % problems)


@test("overlays replaced every placeholder of the base")
def t_placeholders():
    base = json.dumps(rendered("base"))
    check("192.0.2.0/24" in base and ".invalid" in base,
          "the base's placeholders changed; update this test")
    for overlay in OVERLAYS:
        text = json.dumps(rendered(overlay))
        check("192.0.2." not in text, "%s keeps TEST-NET-1" % overlay)
        check(".invalid" not in text, "%s keeps a .invalid backend" % overlay)


# --------------------------------------------------------- pod hardening

@test("pods: read-only root, non-root, no capabilities, no escalation")
def t_pod_security():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        for w in (gridfront_deployment(objs),) + jobs(objs):
            pod = gk.pod_from(w, "ns")
            spec = pod["spec"]
            psc = spec.get("securityContext") or {}
            where = "%s %s" % (overlay, w["metadata"]["name"])
            check(spec.get("automountServiceAccountToken") is False,
                  where + ": API token mounted")
            for f in ("hostNetwork", "hostPID", "hostIPC"):
                check(spec.get(f) is not True, "%s: %s" % (where, f))
            check(psc.get("runAsUser", 0) != 0, where + ": runs as root")
            check((psc.get("seccompProfile") or {}).get("type")
                  == "RuntimeDefault", where + ": no RuntimeDefault seccomp")
            for c in gk.containers(gk.inject_vault_agent(pod)):
                sc = c.get("securityContext") or {}
                cw = "%s/%s" % (where, c["name"])
                check(sc.get("readOnlyRootFilesystem") is True,
                      cw + ": root filesystem writable")
                check(sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
                      is True, cw + ": runAsNonRoot not set")
                check(sc.get("runAsUser", psc.get("runAsUser")) != 0,
                      cw + ": runs as root")
                check(sc.get("allowPrivilegeEscalation") is False,
                      cw + ": privilege escalation allowed")
                check(sc.get("privileged") is not True, cw + ": privileged")
                caps = sc.get("capabilities") or {}
                check(caps.get("drop") == ["ALL"], cw + ": drop is not [ALL]")
                check(not caps.get("add"), cw + ": adds capabilities")


@test("probes: readiness on /readyz, liveness on /healthz, admin port")
def t_probes():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        dep = gridfront_deployment(objs)
        _, config = config_of(objs, dep)
        admin = addr_port(config["admin"]["address"])
        c = gridfront_container(dep)
        for probe, path in (("readinessProbe", "/readyz"),
                            ("livenessProbe", "/healthz")):
            get = (c.get(probe) or {}).get("httpGet")
            check(get, "%s: no %s httpGet" % (overlay, probe))
            check(get["path"] == path, "%s: %s path %s, not %s"
                  % (overlay, probe, get["path"], path))
            check(container_port(dep, get["port"]) == admin,
                  "%s: %s port is not the admin port %d"
                  % (overlay, probe, admin))
        check(admin not in listener_ports(config),
              "admin port is also a listener port")


@test("resources: requests and limits set, limits >= requests")
def t_resources():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        for w in (gridfront_deployment(objs),) + jobs(objs):
            for c in gk.containers(w):
                res = c.get("resources") or {}
                for r, parse in (("cpu", gk.cpu_cores),
                                 ("memory", gk.mem_bytes)):
                    lim = parse((res.get("limits") or {}).get(r))
                    req = parse((res.get("requests") or {}).get(r))
                    check(lim and req, "%s/%s: no %s request or limit"
                          % (overlay, c["name"], r))
                    check(lim >= req, "%s/%s: %s limit below request"
                          % (overlay, c["name"], r))


@test("config: workers equal the CPU limit; files under mounted paths")
def t_config():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        dep = gridfront_deployment(objs)
        _, config = config_of(objs, dep)
        c = gridfront_container(dep)
        cpu = gk.cpu_cores(c["resources"]["limits"]["cpu"])
        check(isinstance(config.get("workers"), int),
              "%s: workers is %r; 'auto' counts the node's cores, not the "
              "container's" % (overlay, config.get("workers")))
        check(config["workers"] == int(cpu), "%s: workers %s != CPU limit %s"
              % (overlay, config["workers"], cpu))
        mounts = {m["mountPath"]: m for m in c.get("volumeMounts") or []}
        for key in ("ca_path", "vomsdir"):
            path = config["auth"][key]
            m = [mp for mp in mounts if path.startswith(mp.rstrip("/") + "/")]
            check(m, "%s: auth.%s %s is on no volume" % (overlay, key, path))
            check(mounts[m[0]].get("readOnly"), "%s: %s mounted writable"
                  % (overlay, m[0]))


@test("rollout drains: preStop sleep + shutdown_grace < grace period")
def t_drain():
    def seconds(v):
        m = re.fullmatch(r"(\d+)(ms|s|m)", str(v))
        check(m, "cannot read duration %r" % v)
        n, unit = int(m.group(1)), m.group(2)
        return n / 1000 if unit == "ms" else n * (60 if unit == "m" else 1)
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        dep = gridfront_deployment(objs)
        _, config = config_of(objs, dep)
        grace = seconds((config.get("timeouts") or {}).get("shutdown_grace",
                                                           "30s"))
        c = gridfront_container(dep)
        pre = c["lifecycle"]["preStop"]
        if "sleep" in pre:
            sleep = pre["sleep"]["seconds"]
        else:
            cmd = pre["exec"]["command"]
            check(os.path.basename(cmd[0]) == "sleep", "preStop is not sleep")
            sleep = int(cmd[1])
        tgp = dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        check(sleep >= 5, "%s: preStop sleep %ss is too short for endpoint "
              "removal to spread" % (overlay, sleep))
        check(tgp > sleep + grace, "%s: terminationGracePeriodSeconds %s <= "
              "preStop %s + shutdown_grace %s" % (overlay, tgp, sleep, grace))
        ru = dep["spec"]["strategy"]["rollingUpdate"]
        check(ru["maxUnavailable"] == 0, "%s: rollout may drop capacity"
              % overlay)


@test("Services select the pods and target the listener ports")
def t_services():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        dep = gridfront_deployment(objs)
        _, config = config_of(objs, dep)
        labels = dep["spec"]["template"]["metadata"]["labels"]
        lb = find(objs, "Service", "gridfront")
        check(lb["spec"]["type"] == "LoadBalancer", "public Service type")
        check(lb["spec"].get("externalTrafficPolicy") == "Local",
              "client addresses would be lost (externalTrafficPolicy)")
        targets = {container_port(dep, p["targetPort"])
                   for p in lb["spec"]["ports"]}
        check(targets == listener_ports(config), "%s: public Service targets "
              "%s, config listens on %s" % (overlay, sorted(targets),
                                           sorted(listener_ports(config))))
        for svc in find(objs, "Service"):
            check(gk.selector_matches({"matchLabels": svc["spec"]["selector"]},
                                      labels),
                  "%s: Service %s selects no gridfront pod"
                  % (overlay, svc["metadata"]["name"]))
        admin = find(objs, "Service", "gridfront-admin")
        check(admin["spec"]["type"] == "ClusterIP", "admin Service exposed")
        check({container_port(dep, p["targetPort"])
               for p in admin["spec"]["ports"]}
              == {addr_port(config["admin"]["address"])},
              "admin Service does not target the admin port")


@test("HPA and PDB fit the Deployment")
def t_hpa_pdb():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        dep = gridfront_deployment(objs)
        hpa = find(objs, "HorizontalPodAutoscaler", "gridfront")
        ref = hpa["spec"]["scaleTargetRef"]
        check((ref["kind"], ref["name"]) == ("Deployment", "gridfront"),
              "HPA scales something else")
        check([m["resource"]["name"] for m in hpa["spec"]["metrics"]]
              == ["cpu"], "HPA is not on CPU")
        check(hpa["spec"]["minReplicas"] == dep["spec"]["replicas"],
              "%s: Deployment replicas %s != HPA minReplicas %s" % (
                  overlay, dep["spec"]["replicas"],
                  hpa["spec"]["minReplicas"]))
        check(2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"],
              "%s: HPA bounds" % overlay)
        pdb = find(objs, "PodDisruptionBudget", "gridfront")
        check(gk.selector_matches(pdb["spec"]["selector"],
                                  dep["spec"]["template"]["metadata"]
                                  ["labels"]), "PDB selects no pod")
        check(pdb["spec"]["maxUnavailable"] < hpa["spec"]["minReplicas"],
              "PDB allows evicting every pod")


# ------------------------------------------------------------------ vault

TEMPLATE = re.compile(r'\{\{- with secret "([^"]+)" -\}\}\n'
                      r'\{\{ index \.Data\.data "([^"]+)" \}\}\n'
                      r'\{\{- end -\}\}')


def agent_files(pod_template):
    """{file path: (vault path, template)} of the Agent annotations."""
    ann = pod_template["metadata"].get("annotations") or {}
    volume = ann.get(VAULT + "secret-volume-path", "/vault/secrets")
    files = {}
    for k, v in ann.items():
        if not k.startswith(VAULT + "agent-inject-secret-"):
            continue
        name = k[len(VAULT + "agent-inject-secret-"):]
        if ann.get(VAULT + "preserve-secret-case") != "true":
            name = name.lower()
        where = ann.get(VAULT + "secret-volume-path-" + name, volume)
        fname = ann.get(VAULT + "agent-inject-file-" + name, name)
        files[os.path.join(where, fname)] = (
            name, v, ann.get(VAULT + "agent-inject-template-" + name))
    return files


@test("config reads exactly the files the Vault Agent writes")
def t_vault_paths():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        dep = gridfront_deployment(objs)
        _, config = config_of(objs, dep)
        ann = dep["spec"]["template"]["metadata"]["annotations"]
        check(ann.get(VAULT + "agent-inject") == "true", "no injection")
        volume = ann[VAULT + "secret-volume-path"]
        written = set(agent_files(dep["spec"]["template"]))
        tls = [entry["tls"] for entry in config["listen"] if "tls" in entry]
        check(tls, "no TLS listener")
        read = {config["auth"]["hmac_key"], config["auth"]["users"]}
        for t in tls:
            read |= {t["certificate"], t["key"]}
        check(read == written, "%s: config reads %s, the Agent writes %s"
              % (overlay, sorted(read), sorted(written)))
        for key in ("banned",):
            path = (config.get("auth") or {}).get(key)
            check(not path or not path.startswith(volume + "/")
                  or path in written, "%s: auth.%s %s is in the Vault "
                  "volume but no Agent writes it" % (overlay, key, path))


@test("Agent templates render the stored bytes, nothing more")
def t_vault_templates():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        for w in (gridfront_deployment(objs), cric_cronjob(objs)):
            tmpl = (w["spec"]["template"] if w["kind"] == "Deployment"
                    else w["spec"]["jobTemplate"]["spec"]["template"])
            ann = tmpl["metadata"]["annotations"]
            sc = tmpl["spec"]["securityContext"]
            files = agent_files(tmpl)
            check(files, "%s: no Agent files" % w["metadata"]["name"])
            for path, (name, vpath, text) in files.items():
                where = "%s %s %s" % (overlay, w["metadata"]["name"], name)
                check(text, where + ": no template")
                m = TEMPLATE.fullmatch(text)
                check(m, where + ": template is not exactly the one-key "
                      "shape (stray text would end up in the file)")
                check(m.group(1) == vpath, where + ": template reads %s, "
                      "annotation says %s" % (m.group(1), vpath))
                check(m.group(2) == os.path.basename(path),
                      where + ": key %s is not the file name" % m.group(2))
                check(ann.get(VAULT + "error-on-missing-key-" + name)
                      == "true", where + ": a missing key would render "
                      "'<no value>' into the file")
                perms = int(ann.get(VAULT + "agent-inject-perms-" + name,
                                    "0644"), 8)
                check(perms & 0o077 == 0, where + ": readable by group/other"
                      " (gridfront refuses such an HMAC key)")
            check(ann[VAULT + "agent-run-as-user"] == str(sc["runAsUser"])
                  and ann[VAULT + "agent-run-as-group"]
                  == str(sc["runAsGroup"]), "%s: the Agent's uid/gid differ"
                  " from the pod's: 0400 files would be unreadable"
                  % w["metadata"]["name"])
            vol = ann[VAULT + "agent-service-account-token-volume-name"]
            proj = [v for v in tmpl["spec"]["volumes"] if v["name"] == vol]
            check(proj and "projected" in proj[0], "no projected volume %s"
                  % vol)


def run_stubbed(args, state, namespaces="gridfront", sas="",
                extra_env=None):
    env = dict(os.environ)
    env.update({
        "PATH": STUBS + os.pathsep + env.get("PATH", "/usr/bin:/bin"),
        "STUB_LOG": os.path.join(state, "log"),
        "VAULT_STUB_STATE": os.path.join(state, "vault.json"),
        "KUBECTL_STUB_NAMESPACES": namespaces,
        "KUBECTL_STUB_SERVICEACCOUNTS": sas,
    })
    for k in ("VAULT_KV_MOUNT", "VAULT_K8S_AUTH", "VAULT_ROLE_AUDIENCE",
              "VAULT_TOKEN_TTL"):
        env.pop(k, None)
    env.update(extra_env or {})
    open(env["STUB_LOG"], "w").close()
    r = subprocess.run(["bash", DEPLOY_SECRETS] + args, capture_output=True,
                       text=True, env=env, stdin=subprocess.DEVNULL,
                       timeout=60)
    with open(env["STUB_LOG"]) as f:
        r.calls = f.read().splitlines()
    return r


def vault_state(state):
    with open(os.path.join(state, "vault.json")) as f:
        return json.load(f)


def writes(calls):
    return [c for c in calls if '"put"' in c or '"write"' in c]


@test("Vault names: annotations use what deploy-secrets.sh creates")
def t_vault_names():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        with tempfile.TemporaryDirectory() as tmp:
            made = {}
            for w in (gridfront_deployment(objs),) + jobs(objs):
                tmpl = (w["spec"]["template"] if w["kind"] == "Deployment"
                        else w["spec"]["jobTemplate"]["spec"]["template"])
                ns = w["metadata"]["namespace"]
                sa = tmpl["spec"]["serviceAccountName"]
                files = agent_files(tmpl)
                d = os.path.join(tmp, sa)
                os.mkdir(d)
                for path in files:
                    with open(os.path.join(d, os.path.basename(path)),
                              "w") as f:
                        f.write("x\n")
                args = [ns, sa, d]
                if w["kind"] == "CronJob":
                    args = ["-p", "gridfront"] + args
                r = run_stubbed(args, tmp, namespaces=ns,
                                sas="%s/%s" % (ns, sa))
                check(r.returncode == 0, "deploy-secrets.sh %s: %s"
                      % (args, r.stderr))
                made[w["metadata"]["name"]] = (w, tmpl, ns, sa, files)
            st = vault_state(tmp)
            for kind, (w, tmpl, ns, sa, files) in made.items():
                ann = tmpl["metadata"]["annotations"]
                role = "auth/kubernetes/role/" + ann[VAULT + "role"]
                check(role in st["roles"], "%s: role %s is not the one the "
                      "script creates (%s)" % (overlay, role,
                                               sorted(st["roles"])))
                rd = st["roles"][role]
                check(rd["bound_service_account_names"] == [sa]
                      and rd["bound_service_account_namespaces"] == [ns],
                      "role bound to another account")
                vol = ann[VAULT + "agent-service-account-token-volume-name"]
                proj = [v for v in tmpl["spec"]["volumes"]
                        if v["name"] == vol][0]
                aud = proj["projected"]["sources"][0]["serviceAccountToken"]
                check(aud["audience"] == rd["audience"], "token audience %s "
                      "!= role audience %s" % (aud["audience"],
                                               rd["audience"]))
                pol = "".join(st["policies"][p]
                              for p in rd["token_policies"])
                for path, (name, vpath, _) in files.items():
                    kv = vpath.replace("/data/", "/", 1)
                    check(kv in st["kv"], "%s reads %s, the script wrote %s"
                          % (name, vpath, sorted(st["kv"])))
                    check(os.path.basename(path) in st["kv"][kv]["data"],
                          "key %s not stored" % name)
                    check('path "%s"' % vpath in pol, "role %s cannot read "
                          "%s" % (role, vpath))
            # Each CronJob publishes into the secret gridfront renders,
            # with a role of its own that may patch it and nothing more.
            gpaths = {v[1] for v in made["gridfront"][4].values()}
            for cj in ("gridfront-cric", "gridfront-jwks"):
                ctmpl = made[cj][1]
                env = {e["name"]: e.get("value")
                       for e in ctmpl["spec"]["containers"][0]["env"]}
                check(gpaths == {env["VAULT_SECRET"]}, "%s writes %s, "
                      "gridfront reads %s" % (cj, env["VAULT_SECRET"],
                                              gpaths))
                crole = st["roles"]["auth/kubernetes/role/"
                                    + ctmpl["metadata"]["annotations"][
                                        VAULT + "role"]]
                cpol = "".join(st["policies"][p]
                               for p in crole["token_policies"])
                check(re.search(r'path "%s" \{\n  capabilities = '
                                r'\["patch"\]'
                                % re.escape(env["VAULT_SECRET"]), cpol),
                      "%s's role cannot patch %s" % (cj, env["VAULT_SECRET"]))
                if cj == "gridfront-jwks":
                    check("gridfront-cric-secrets" not in cpol,
                          "the JWKS job may read the CRIC robot key")
            check(made["gridfront-cric"][3] != made["gridfront-jwks"][3],
                  "the two CronJobs share a service account")
            users = [p for p in made["gridfront"][4]
                     if p.endswith("users.json")]
            check(users, "gridfront renders no users.json")


# ---------------------------------------------------------- network policy

def policies_for(objs, labels):
    return [p for p in find(objs, "NetworkPolicy")
            if gk.selector_matches(p["spec"]["podSelector"], labels)]


def is_internet(peer):
    return (peer.get("ipBlock") or {}).get("cidr") in ("0.0.0.0/0", "::/0")


@test("NetworkPolicy selectors select the pods they are written for")
def t_netpol_selectors():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        dep, cj = gridfront_deployment(objs), cric_cronjob(objs)
        pods = {"gridfront": dep["spec"]["template"]["metadata"]["labels"],
                "cric": cj["spec"]["jobTemplate"]["spec"]["template"]
                ["metadata"]["labels"],
                "jwks": jwks_cronjob(objs)["spec"]["jobTemplate"]["spec"][
                    "template"]["metadata"]["labels"]}
        for p in find(objs, "NetworkPolicy"):
            sel = p["spec"]["podSelector"]
            hits = [n for n, lab in pods.items()
                    if gk.selector_matches(sel, lab)]
            check(sel == {} or hits, "%s: NetworkPolicy %s selects no pod"
                  % (overlay, p["metadata"]["name"]))
        for name, labels in pods.items():
            types = {t for p in policies_for(objs, labels)
                     if p["spec"]["podSelector"]
                     for t in p["spec"]["policyTypes"]}
            check(types == {"Ingress", "Egress"} or
                  (name in ("cric", "jwks") and "Egress" in types),
                  "%s: %s pods lack their own policies (%s)"
                  % (overlay, name, types))
            check(any(p["spec"]["podSelector"] == {} and
                      set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
                      and not p["spec"].get("ingress")
                      and not p["spec"].get("egress")
                      for p in policies_for(objs, labels)),
                  "%s: no default-deny policy" % overlay)


@test("NetworkPolicy ingress: listener ports from anywhere, admin from "
      "monitoring only")
def t_netpol_ingress():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        dep = gridfront_deployment(objs)
        _, config = config_of(objs, dep)
        labels = dep["spec"]["template"]["metadata"]["labels"]
        admin = addr_port(config["admin"]["address"])
        internet, monitoring = set(), set()
        for p in policies_for(objs, labels):
            for rule in p["spec"].get("ingress") or []:
                check(rule.get("from"), "%s: an ingress rule from anywhere "
                      "on any pod" % p["metadata"]["name"])
                check(rule.get("ports"), "%s: an ingress rule on every port"
                      % p["metadata"]["name"])
                ports = {container_port(dep, x["port"]) for x in rule["ports"]}
                for peer in rule["from"]:
                    if is_internet(peer):
                        internet |= ports
                    elif peer == {"namespaceSelector": {"matchLabels": {
                            "kubernetes.io/metadata.name": "monitoring"}}}:
                        monitoring |= ports
                    else:
                        raise Fail("%s: unexpected ingress peer %s"
                                   % (p["metadata"]["name"], peer))
        check(internet == listener_ports(config), "%s: open to the internet "
              "%s, config listens on %s" % (overlay, sorted(internet),
                                           sorted(listener_ports(config))))
        check(monitoring == {admin}, "%s: monitoring may reach %s, not just "
              "the admin port %d" % (overlay, sorted(monitoring), admin))
        check(admin not in internet, "admin port open to the internet")


@test("NetworkPolicy egress: backend ports, DNS and Vault only")
def t_netpol_egress():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        dep = gridfront_deployment(objs)
        _, config = config_of(objs, dep)
        labels = dep["spec"]["template"]["metadata"]["labels"]
        kinds = {}
        for p in policies_for(objs, labels):
            for rule in p["spec"].get("egress") or []:
                check(rule.get("to") and rule.get("ports"),
                      "%s: an egress rule without to/ports" %
                      p["metadata"]["name"])
                ports = {(x.get("protocol", "TCP"), x["port"])
                         for x in rule["ports"]}
                for peer in rule["to"]:
                    check(not is_internet(peer), "egress to the internet")
                    if "ipBlock" in peer:
                        kinds.setdefault("backend", set()).update(ports)
                    elif peer.get("podSelector") == {"matchLabels": {
                            "k8s-app": "kube-dns"}}:
                        check(peer["namespaceSelector"]["matchLabels"] ==
                              {"kubernetes.io/metadata.name": "kube-system"},
                              "DNS peer outside kube-system")
                        kinds.setdefault("dns", set()).update(ports)
                    elif (peer.get("namespaceSelector") or {}).get(
                            "matchLabels") == {
                            "kubernetes.io/metadata.name": "vault"}:
                        check("podSelector" in peer, "all of vault's ns")
                        kinds.setdefault("vault", set()).update(ports)
                    else:
                        raise Fail("unexpected egress peer %s" % peer)
        want = {("TCP", port) for port in backend_ports(config)}
        check(kinds.get("backend") == want, "%s: egress to the backends on "
              "%s, config uses %s" % (overlay, kinds.get("backend"), want))
        check(kinds.get("dns") == {("UDP", 53), ("TCP", 53)}, "DNS ports")
        check(kinds.get("vault") == {("TCP", 8200)}, "Vault port")
        check(set(kinds) == {"backend", "dns", "vault"}, "egress kinds %s"
              % sorted(kinds))


@test("NetworkPolicy for the CRIC and JWKS jobs: no ingress, HTTPS/DNS/"
      "Vault out")
def t_netpol_cric():
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        for cj in jobs(objs):
            name = cj["metadata"]["name"]
            labels = cj["spec"]["jobTemplate"]["spec"]["template"][
                "metadata"]["labels"]
            ps = policies_for(objs, labels)
            check(not any(p["spec"].get("ingress") for p in ps),
                  "something may connect to %s" % name)
            ports = {(x.get("protocol", "TCP"), x["port"])
                     for p in ps for rule in p["spec"].get("egress") or []
                     for x in rule["ports"]}
            check(ports == {("TCP", 443), ("UDP", 53), ("TCP", 53),
                            ("TCP", 8200)}, "%s egress ports %s"
                  % (name, ports))
            check(not any(is_internet(peer) for p in ps
                          for rule in p["spec"].get("egress") or []
                          for peer in rule["to"]), "%s reaches anywhere"
                  % name)
            # HTTPS only to CERN's blocks (where CRIC and the issuers are).
            for p in ps:
                for rule in p["spec"].get("egress") or []:
                    if {x["port"] for x in rule["ports"]} != {443}:
                        continue
                    for peer in rule["to"]:
                        cidr = (peer.get("ipBlock") or {}).get("cidr")
                        check(cidr in CERN_BLOCKS, "%s: HTTPS to %s, not "
                              "a CERN block" % (name, peer))


CERN_BLOCKS = {"188.184.0.0/15", "137.138.0.0/16", "128.141.0.0/16",
               "128.142.0.0/16", "2001:1458::/32"}


@test("JWKS job: gridfront-jwks per issuer, its image, writable TMPDIR")
def t_jwks_job():
    with open(os.path.join(DEPLOY, "jwks", "Dockerfile")) as f:
        docker = f.read()
    m = re.search(r"^COPY dist/gridfront-jwks (\S+)$", docker, re.M)
    check(m, "deploy/jwks/Dockerfile does not copy dist/gridfront-jwks")
    installed = m.group(1)
    check(os.path.exists(os.path.join(ROOT, "dist", "gridfront-jwks")),
          "dist/gridfront-jwks is missing")
    for overlay in OVERLAYS:
        objs = rendered(overlay)
        cj = jwks_cronjob(objs)
        spec = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        c = spec["containers"][0]
        check(c["image"].startswith("registry.cern.ch/cmsweb/gridfront-"
                                    "jwks:"), "%s: image %s is not the "
              "JWKS image" % (overlay, c["image"]))
        check(spec["serviceAccountName"] == "gridfront-jwks",
              "%s: runs as %s" % (overlay, spec["serviceAccountName"]))
        find(objs, "ServiceAccount", "gridfront-jwks")
        script = c["command"][-1]
        r = subprocess.run(["sh", "-n", "-c", script], capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 0, "command is not valid sh: %s" % r.stderr)
        runs = re.findall(r"^\s*gridfront-jwks (\S+) (\S+)\s*$", script,
                          re.M)
        check(runs, "%s: the command runs no gridfront-jwks" % overlay)
        check(os.path.basename(installed) == "gridfront-jwks" and
              os.path.dirname(installed) in ("/usr/local/bin", "/usr/bin"),
              "the image installs it as %s, not on PATH" % installed)
        issuers = [i for i, _ in runs]
        check(set(issuers) == {"https://cms-auth.cern.ch/",
                               "https://cms-auth.web.cern.ch/",
                               "https://auth.cern.ch/auth/realms/cern"},
              "%s: issuers fetched %s" % (overlay, issuers))
        env = {e["name"]: e.get("value") for e in c.get("env") or []}
        mounts = {m["mountPath"]: m for m in c.get("volumeMounts") or []}
        outs = [o for _, o in runs] + [env.get("TMPDIR", "/tmp") + "/x"]
        for out in outs:
            mp = [p for p in mounts if out.startswith(p.rstrip("/") + "/")
                  and not mounts[p].get("readOnly")]
            check(mp, "%s: %s is on no writable volume (the root is "
                  "read-only)" % (overlay, out))
        names = [os.path.basename(o) for _, o in runs]
        check(len(set(names)) == len(names), "two issuers publish the "
              "same Vault key")
        check(env.get("VAULT_SECRET"), "%s: VAULT_SECRET unset: nothing "
              "would be published" % overlay)


@test("example backend policy admits only ingress-controller pods")
def t_netpol_backend():
    docs = render.load_docs(os.path.join(DEPLOY, "examples",
                                         "backend-networkpolicy.yaml"))
    check(len(docs) == 1, "one policy expected")
    p = docs[0]
    check(p["spec"]["policyTypes"] == ["Ingress"], "policyTypes")
    rules = p["spec"]["ingress"]
    check(len(rules) == 1 and len(rules[0]["from"]) == 1,
          "one rule with one peer (two peers would mean OR)")
    peer = rules[0]["from"][0]
    check(set(peer) == {"namespaceSelector", "podSelector"},
          "the peer must AND a namespace and a pod selector")
    controller = {"app.kubernetes.io/name": "ingress-nginx",
                  "app.kubernetes.io/component": "controller"}
    check(gk.selector_matches(peer["podSelector"], controller),
          "does not select ingress-nginx controller pods")
    check(not gk.selector_matches(peer["podSelector"],
                                  {"app.kubernetes.io/name": "gridfront"}),
          "selects other pods")
    check(rules[0].get("ports"), "no port restriction")
    check(p["spec"]["podSelector"].get("matchLabels"),
          "applies to every pod of the namespace")


# -------------------------------------------------------------- gatekeeper

def chart(values=None):
    objs, texts = render.helm_template(os.path.join(DEPLOY, "gatekeeper"),
                                       values=values)
    return objs, texts


@test("Gatekeeper chart renders 8 ConstraintTemplates and 8 Constraints")
def t_gk_render():
    objs, _ = chart()
    tmpls = [o for o in objs if o["kind"] == "ConstraintTemplate"]
    cons = [o for o in objs if o["kind"] != "ConstraintTemplate"]
    check(len(tmpls) == 8 and len(cons) == 8, "got %d templates, %d "
          "constraints" % (len(tmpls), len(cons)))
    check({t["spec"]["crd"]["spec"]["names"]["kind"] for t in tmpls}
          == {c["kind"] for c in cons} == set(gk.RULES),
          "template kinds, constraint kinds and checked rules differ")
    for o in objs:
        check(o["apiVersion"] in ("templates.gatekeeper.sh/v1",
                                  "constraints.gatekeeper.sh/v1beta1"),
              "apiVersion %s" % o["apiVersion"])
        check(DNS_SUBDOMAIN.fullmatch(o["metadata"]["name"]), "name")
    for c in cons:
        check(c["spec"]["enforcementAction"] == "deny", "not enforced")
    off, _ = chart({"constraints": {"enabled": False}})
    check([o["kind"] for o in off] == ["ConstraintTemplate"] * 8,
          "constraints.enabled=false still renders constraints")
    one, _ = chart({"policies": {"hostNamespaces": {"enabled": False}}})
    check(len(one) == 14, "disabling one policy left %d objects" % len(one))


def rego_balanced(src):
    """Brackets balance outside strings and comments."""
    stack, i, pairs = [], 0, {")": "(", "]": "[", "}": "{"}
    while i < len(src):
        ch = src[i]
        if ch == "#":
            while i < len(src) and src[i] != "\n":
                i += 1
        elif ch == '"':
            i += 1
            while src[i] != '"':
                i += 2 if src[i] == "\\" else 1
        elif ch in "([{":
            stack.append(ch)
        elif ch in ")]}":
            if not stack or stack.pop() != pairs[ch]:
                return False
        i += 1
    return not stack


@test("ConstraintTemplates are well-formed (Rego checked statically)")
def t_gk_templates():
    objs, _ = chart()
    cons = {o["kind"]: o for o in objs if o["kind"] != "ConstraintTemplate"}
    for t in (o for o in objs if o["kind"] == "ConstraintTemplate"):
        kind = t["spec"]["crd"]["spec"]["names"]["kind"]
        name = t["metadata"]["name"]
        check(name == kind.lower(), "%s: name must be the kind in lower "
              "case" % name)
        targets = t["spec"]["targets"]
        check(len(targets) == 1 and targets[0]["target"]
              == "admission.k8s.gatekeeper.sh", "%s: target" % name)
        rego = targets[0]["rego"]
        check(re.search(r"^package %s$" % name, rego, re.M),
              "%s: package is not %s" % (name, name))
        check('violation[{"msg": msg}] {' in rego, "%s: no violation rule"
              % name)
        check(rego_balanced(rego), "%s: unbalanced brackets" % name)
        check("\t" not in rego, "%s: tab in Rego" % name)
        check(not re.search(r"^\s*import ", rego, re.M),
              "%s: imports (older Gatekeepers reject them)" % name)
        schema = (t["spec"]["crd"]["spec"].get("validation") or {}).get(
            "openAPIV3Schema", {}).get("properties", {})
        used = set(re.findall(r"input\.parameters\.(\w+)", rego))
        check(used <= set(schema), "%s: parameters %s not in the schema"
              % (name, sorted(used - set(schema))))
        given = set(cons[kind]["spec"].get("parameters") or {})
        check(given <= set(schema), "%s: constraint sets unknown %s"
              % (name, sorted(given - set(schema))))
        check(used - {"exemptImages"} <= given, "%s: constraint leaves "
              "%s unset" % (name, sorted(used - given)))
        for prop, s in schema.items():
            v = (cons[kind]["spec"].get("parameters") or {}).get(prop)
            if v is None:
                continue
            typ = {"string": str, "array": list, "integer": int,
                   "number": (int, float)}[s["type"]]
            check(isinstance(v, typ) and not isinstance(v, bool),
                  "%s: %s=%r is not a %s" % (name, prop, v, s["type"]))
            if s["type"] == "array":
                check(all(isinstance(x, str) for x in v),
                      "%s: %s has non-string items %r" % (name, prop, v))


def gridfront_objects(overlay):
    """What Gatekeeper admits for gridfront: the workloads as applied, the
    HPA, and the Pods their controllers create after the Vault Agent
    injector has added its containers."""
    objs = rendered(overlay)
    dep, cj, jj = gridfront_deployment(objs), cric_cronjob(objs), \
        jwks_cronjob(objs)
    ns = dep["metadata"]["namespace"]
    pods = [gk.inject_vault_agent(gk.pod_from(w, ns))
            for w in (dep, cj, jj)]
    return objs, [dep, cj, jj, find(objs, "HorizontalPodAutoscaler",
                                "gridfront")] + pods + [
        o for o in objs if o["kind"] in ("RoleBinding", "ClusterRoleBinding")]


def gk_rule_test(kind, mutate, must_match=True):
    """A test of one rule: every gridfront object it matches is admitted;
    mutate(objects) -> objects that must each be rejected."""
    def run():
        for overlay in OVERLAYS:
            cons, _ = chart()
            con = [c for c in cons if c["kind"] == kind]
            check(len(con) == 1, "no %s constraint" % kind)
            con = con[0]
            _, candidates = gridfront_objects(overlay)
            matched = [o for o in candidates if gk.gk_matches(con, o)]
            check(matched or not must_match, "%s matches none of gridfront's"
                  " objects: it would never be applied" % kind)
            for o in matched:
                v = gk.evaluate(con, o)
                check(not v, "%s: %s %s: %s" % (overlay, o["kind"],
                                                o["metadata"]["name"], v))
            for bad in mutate(copy.deepcopy(candidates)):
                check(gk.gk_matches(con, bad), "the broken %s is not even "
                      "matched" % bad["kind"])
                check(gk.evaluate(con, bad), "%s admits a broken %s"
                      % (kind, bad["kind"]))
    return run


def the(objs, kind, name_part=""):
    return [o for o in objs if o["kind"] == kind
            and name_part in o["metadata"]["name"]][0]


def _pod_container(objs, cname="gridfront"):
    pod = the(objs, "Pod", "gridfront-pod")
    return pod, [c for c in pod["spec"]["containers"]
                 if c["name"] == cname][0]


def mut_repos(objs):
    out = []
    for image in ("docker.io/library/nginx:1.27",
                  "registry.cern.ch/cmsweb-other/gridfront:1",
                  "registry.cern.ch/docker.io/hashicorp/vault-evil:1"):
        pod, c = _pod_container(copy.deepcopy(objs))
        c["image"] = image
        out.append(pod)
    pod = copy.deepcopy(the(objs, "Pod", "gridfront-pod"))
    pod["spec"]["initContainers"][0]["image"] = "quay.io/x/y:1"
    out.append(pod)
    cj = copy.deepcopy(the(objs, "CronJob"))
    cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0][
        "image"] = "ghcr.io/x/cric:1"
    return out + [cj]


def mut_resources(field):
    def m(objs):
        out = []
        for r, big in (("cpu", "3"), ("memory", "2Gi")):
            pod, c = _pod_container(copy.deepcopy(objs))
            del c["resources"][field][r]
            out.append(pod)
            pod, c = _pod_container(copy.deepcopy(objs))
            c["resources"][field][r] = big
            out.append(pod)
        dep = copy.deepcopy(the(objs, "Deployment"))
        dep["spec"]["template"]["spec"]["containers"][0]["resources"][
            field]["cpu"] = "5000m"
        return out + [dep]
    return m


def mut_ratio(objs):
    out = []
    pod, c = _pod_container(copy.deepcopy(objs))
    c["resources"]["requests"]["cpu"] = "500m"      # limit 2 = 4x
    out.append(pod)
    pod, c = _pod_container(copy.deepcopy(objs))
    c["resources"]["requests"]["memory"] = "256Mi"  # limit 1Gi = 4x
    out.append(pod)
    pod = copy.deepcopy(the(objs, "Pod", "gridfront-pod"))
    agent = [c for c in pod["spec"]["containers"]
             if c["name"] == "vault-agent"][0]
    agent["resources"]["requests"]["cpu"] = "0"
    return out + [pod]


def mut_bindings(objs):
    out = []
    for kind, subj in (("RoleBinding", {"kind": "Group",
                                        "name": "system:unauthenticated"}),
                       ("ClusterRoleBinding", {"kind": "User",
                                               "name": "system:anonymous"})):
        b = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
             "metadata": {"name": "oops"},
             "roleRef": {"kind": "ClusterRole", "name": "view",
                         "apiGroup": "rbac.authorization.k8s.io"},
             "subjects": [{"kind": "ServiceAccount", "name": "gridfront",
                           "namespace": "gridfront"}, subj]}
        if kind == "RoleBinding":
            b["metadata"]["namespace"] = "gridfront"
        out.append(b)
    return out


def mut_replicas(objs):
    dep = copy.deepcopy(the(objs, "Deployment"))
    dep["spec"]["replicas"] = 1
    hpa = copy.deepcopy(the(objs, "HorizontalPodAutoscaler"))
    hpa["spec"]["maxReplicas"] = 40
    hpa2 = copy.deepcopy(the(objs, "HorizontalPodAutoscaler"))
    del hpa2["spec"]["minReplicas"]
    return [dep, hpa, hpa2]


def mut_probes(objs):
    out = []
    for probe in ("readinessProbe", "livenessProbe"):
        pod, c = _pod_container(copy.deepcopy(objs))
        del c[probe]
        out.append(pod)
    pod, c = _pod_container(copy.deepcopy(objs))
    c["readinessProbe"] = {"periodSeconds": 5}
    out.append(pod)
    # A sidecar of another Vault version is not the exempt image.
    pod, c = _pod_container(copy.deepcopy(objs), "vault-agent")
    c["image"] = c["image"].rsplit(":", 1)[0] + ":1.99.0"
    out.append(pod)
    dep = copy.deepcopy(the(objs, "Deployment"))
    del dep["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    return out + [dep]


def mut_host(objs):
    out = []
    for f in ("hostPID", "hostIPC"):
        pod = copy.deepcopy(the(objs, "Pod", "gridfront-pod"))
        pod["spec"][f] = True
        out.append(pod)
        cj = copy.deepcopy(the(objs, "CronJob"))
        cj["spec"]["jobTemplate"]["spec"]["template"]["spec"][f] = True
        out.append(cj)
    return out


for _kind, _title, _mut, _must in (
        ("GridfrontAllowedRepos", "allowed image repositories",
         mut_repos, True),
        ("GridfrontContainerLimits", "container limits",
         mut_resources("limits"), True),
        ("GridfrontContainerRequests", "container requests",
         mut_resources("requests"), True),
        ("GridfrontLimitRequestRatio", "limit/request ratio", mut_ratio,
         True),
        ("GridfrontNoAnonymousBindings", "no anonymous role bindings",
         mut_bindings, False),
        ("GridfrontReplicaLimits", "replica range", mut_replicas, True),
        ("GridfrontRequiredProbes", "readiness and liveness probes",
         mut_probes, True),
        ("GridfrontHostNamespaces", "no host PID/IPC", mut_host, True)):
    test("Gatekeeper rule (checked in Python): " + _title)(
        gk_rule_test(_kind, _mut, _must))


@test("Gatekeeper probe rule skips Job pods, applies to gridfront's")
def t_gk_probe_match():
    cons, _ = chart()
    con = [c for c in cons if c["kind"] == "GridfrontRequiredProbes"][0]
    _, cands = gridfront_objects("prod")
    pods = {o["metadata"]["name"]: o for o in cands if o["kind"] == "Pod"}
    check(gk.gk_matches(con, pods["gridfront-pod"]), "gridfront pod skipped")
    check(not gk.gk_matches(con, pods["gridfront-cric-pod"]),
          "Job pod matched: the CRIC job would need probes")
    for c in cons:
        if c["kind"] in ("GridfrontAllowedRepos", "GridfrontContainerLimits",
                         "GridfrontContainerRequests",
                         "GridfrontLimitRequestRatio",
                         "GridfrontHostNamespaces"):
            check(gk.gk_matches(c, pods["gridfront-cric-pod"]),
                  "%s skips the CRIC job" % c["kind"])


# ------------------------------------------------------ deploy-secrets.sh

def secret_dir(base, files):
    d = os.path.join(base, "in")
    shutil.rmtree(d, ignore_errors=True)
    os.mkdir(d)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return d


FILES = {"hmac": b"0123456789abcdef\n", "hostcert.pem": b"-----CERT-----\n",
         "hostkey.pem": b"-----KEY-----", "users.json": b"[]\n"}


@test("deploy-secrets.sh creates secret, read policy and role")
def t_ds_create():
    with tempfile.TemporaryDirectory() as tmp:
        d = secret_dir(tmp, FILES)
        r = run_stubbed(["gridfront", "gridfront", d], tmp,
                        sas="gridfront/gridfront")
        check(r.returncode == 0, "rc %d: %s" % (r.returncode, r.stderr))
        st = vault_state(tmp)
        data = st["kv"]["secret/gridfront/gridfront-secrets"]["data"]
        check({k: v.encode() for k, v in data.items()} == FILES,
              "stored values are not the files' exact bytes: %s" % data)
        pol = st["policies"]["gridfront-gridfront-read"]
        check(re.search(r'path "secret/data/gridfront/gridfront-secrets" '
                        r'\{\n  capabilities = \["read"\]\n\}', pol),
              "read policy: %s" % pol)
        role = st["roles"]["auth/kubernetes/role/gridfront-gridfront"]
        check(role["bound_service_account_names"] == ["gridfront"] and
              role["bound_service_account_namespaces"] == ["gridfront"] and
              role["token_policies"] == ["gridfront-gridfront-read"] and
              role["audience"] == "vault" and role["token_ttl"] == 3600,
              "role: %s" % role)
        for word in ("secret secret/gridfront/gridfront-secrets: created",
                     "policy gridfront-gridfront-read: created",
                     "role auth/kubernetes/role/gridfront-gridfront: created",
                     "3 change(s) made"):
            check(word in r.stdout, "output lacks %r:\n%s" % (word, r.stdout))
        check(any("get namespace gridfront" in c for c in r.calls),
              "namespace not checked with kubectl")


@test("deploy-secrets.sh is idempotent: a second run writes nothing")
def t_ds_idempotent():
    with tempfile.TemporaryDirectory() as tmp:
        d = secret_dir(tmp, FILES)
        args = ["gridfront", "gridfront", d]
        run_stubbed(args, tmp, sas="gridfront/gridfront")
        before = vault_state(tmp)
        r = run_stubbed(args, tmp, sas="gridfront/gridfront")
        check(r.returncode == 0, r.stderr)
        check(not writes(r.calls), "second run wrote: %s" % writes(r.calls))
        check(vault_state(tmp) == before, "state changed")
        check(r.stdout.count(": unchanged") == 3 and
              r.stdout.rstrip().endswith("no changes"), r.stdout)


@test("deploy-secrets.sh updates only what differs, and says what")
def t_ds_update():
    with tempfile.TemporaryDirectory() as tmp:
        d = secret_dir(tmp, FILES)
        args = ["gridfront", "gridfront", d]
        run_stubbed(args, tmp, sas="gridfront/gridfront")
        new = dict(FILES, hmac=b"rotated\n", **{"ban.txt": b"/CN=x\n"})
        del new["users.json"]
        d = secret_dir(tmp, new)
        r = run_stubbed(args, tmp, sas="gridfront/gridfront")
        check(r.returncode == 0, r.stderr)
        check("secret secret/gridfront/gridfront-secrets: updated (added "
              "ban.txt; changed hmac; removed users.json)" in r.stdout,
              r.stdout)
        check(len(writes(r.calls)) == 1, "wrote %s" % writes(r.calls))
        st = vault_state(tmp)
        entry = st["kv"]["secret/gridfront/gridfront-secrets"]
        check({k: v.encode() for k, v in entry["data"].items()} == new
              and entry["version"] == 2, "secret now %s" % entry)
        # Drift in the role is put right.
        st["roles"]["auth/kubernetes/role/gridfront-gridfront"][
            "bound_service_account_namespaces"] = ["other"]
        with open(os.path.join(tmp, "vault.json"), "w") as f:
            json.dump(st, f)
        r = run_stubbed(args, tmp, sas="gridfront/gridfront")
        check("role auth/kubernetes/role/gridfront-gridfront: updated (ns)"
              in r.stdout, r.stdout)
        check(vault_state(tmp)["roles"]["auth/kubernetes/role/gridfront-"
                                        "gridfront"][
            "bound_service_account_namespaces"] == ["gridfront"], "not fixed")


@test("deploy-secrets.sh -n reports changes and writes nothing")
def t_ds_dry():
    with tempfile.TemporaryDirectory() as tmp:
        d = secret_dir(tmp, FILES)
        r = run_stubbed(["-n", "gridfront", "gridfront", d], tmp)
        check(r.returncode == 0, r.stderr)
        check(not writes(r.calls), "dry run wrote %s" % writes(r.calls))
        check("would be created" in r.stdout and
              "3 change(s) pending (dry run)" in r.stdout, r.stdout)
        check("does not exist yet" in r.stderr, "no warning about the "
              "missing service account")


@test("deploy-secrets.sh -p grants patch (not read) on the target")
def t_ds_patch():
    with tempfile.TemporaryDirectory() as tmp:
        d = secret_dir(tmp, {"robotcert.pem": b"C\n", "robotkey.pem": b"K\n"})
        r = run_stubbed(["-p", "gridfront", "gridfront", "gridfront-cric", d],
                        tmp)
        check(r.returncode == 0, r.stderr)
        st = vault_state(tmp)
        role = st["roles"]["auth/kubernetes/role/gridfront-gridfront-cric"]
        check(sorted(role["token_policies"]) ==
              ["gridfront-gridfront-cric-patch-gridfront",
               "gridfront-gridfront-cric-read"], role)
        pol = st["policies"]["gridfront-gridfront-cric-patch-gridfront"]
        check('path "secret/data/gridfront/gridfront-secrets" {\n'
              '  capabilities = ["patch"]\n}' in pol, pol)
        check("read" not in pol.split("{", 1)[1], "patch policy also reads")


@test("deploy-secrets.sh validates its arguments before touching Vault")
def t_ds_validate():
    with tempfile.TemporaryDirectory() as tmp:
        d = secret_dir(tmp, FILES)
        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        bad = os.path.join(tmp, "bad")
        os.mkdir(bad)
        with open(os.path.join(bad, "hmac"), "wb") as f:
            f.write(b"\xff\xfe\x00binary")
        sub = os.path.join(tmp, "sub")
        os.makedirs(os.path.join(sub, "dir"))
        zero = os.path.join(tmp, "zero")
        os.mkdir(zero)
        open(os.path.join(zero, "hmac"), "w").close()
        cases = [
            ([], 2, "expected NAMESPACE SERVICE DIR"),
            (["gridfront", "gridfront"], 2, "got 2"),
            (["gridfront", "gridfront", d, "x"], 2, "got 4"),
            (["Gridfront", "gridfront", d], 2, "not a Kubernetes namespace"),
            (["gridfront", "grid_front", d], 2, "not a service account"),
            (["gridfront", "gridfront", os.path.join(tmp, "nope")], 2,
             "not a directory"),
            (["-x", "gridfront", "gridfront", d], 2, "unknown option"),
            (["-p", "gridfront", "gridfront", "gridfront", d], 2,
             "TARGET is SERVICE"),
            (["gridfront", "gridfront", empty], 1, "no files"),
            (["gridfront", "gridfront", bad], 1, "not UTF-8"),
            (["gridfront", "gridfront", sub], 1, "not a regular file"),
            (["gridfront", "gridfront", zero], 1, "empty file"),
        ]
        for args, rc, msg in cases:
            r = run_stubbed(args, tmp)
            check(r.returncode == rc and msg in r.stderr,
                  "%s: rc %d (want %d), stderr %r" % (args, r.returncode, rc,
                                                     r.stderr))
            check(not r.calls, "%s: called %s" % (args, r.calls))
        r = run_stubbed(["gridfront", "gridfront", d], tmp, namespaces="")
        check(r.returncode == 1 and "namespace gridfront not found"
              in r.stderr, "missing namespace: %s" % r.stderr)
        check(not any(c.startswith('["vault"') for c in r.calls),
              "vault called for a missing namespace")


@test("deploy-secrets.sh refuses a kv-v1 or missing engine")
def t_ds_engine():
    for mounts, msg in (({"secret/": {"type": "kv",
                                      "options": {"version": "1"}}},
                         "not a kv-v2"),
                        ({"other/": {"type": "kv"}}, "no secret engine")):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "vault.json"), "w") as f:
                json.dump({"mounts": mounts}, f)
            d = secret_dir(tmp, FILES)
            r = run_stubbed(["gridfront", "gridfront", d], tmp)
            check(r.returncode == 1 and msg in r.stderr, r.stderr)
            check(not writes(r.calls), "wrote to a wrong engine")


@test("deploy-secrets.sh skips the ..data links of a mounted secret")
def t_ds_dotfiles():
    with tempfile.TemporaryDirectory() as tmp:
        d = secret_dir(tmp, {"..2026_01_01": b"x", "hmac": b"k\n"})
        r = run_stubbed(["gridfront", "gridfront", d], tmp)
        check(r.returncode == 0 and "skip ..2026_01_01" in r.stdout,
              r.stdout + r.stderr)
        data = vault_state(tmp)["kv"]["secret/gridfront/gridfront-secrets"]
        check(set(data["data"]) == {"hmac"}, data)


# --------------------------------------------------------- cric-fetch.sh

CRIC = [{"DN": "/DC=ch/DC=cern/OU=Users/CN=jdoe", "ID": 1, "LOGIN": "jdoe",
         "NAME": "J. Doe \u00e9", "ROLES": {"operator": ["group:dbs"]}},
        {"DN": "/DC=ch/DC=cern/OU=Users/CN=asmith", "ID": 2,
         "LOGIN": "asmith", "NAME": "", "ROLES": {}},
        {"DN": "/DC=org/DC=x/CN=robot", "ID": 3, "LOGIN": "robot",
         "NAME": "Robot", "ROLES": {}}]


def run_cric(tmp, answer, env_extra=None):
    work = os.path.join(tmp, "work")
    os.makedirs(work, exist_ok=True)
    secrets = os.path.join(tmp, "secrets")
    os.makedirs(secrets, exist_ok=True)
    for name, text in (("robotcert.pem", "C\n"), ("robotkey.pem", "K\n"),
                       ("token", "s.tok3n")):
        with open(os.path.join(secrets, name), "w") as f:
            f.write(text)
    with open(os.path.join(tmp, "answer"), "wb") as f:
        f.write(answer)
    env = dict(os.environ)
    env.update({
        "PATH": STUBS + os.pathsep + env.get("PATH", "/usr/bin:/bin"),
        "STUB_LOG": os.path.join(tmp, "log"),
        "CURL_STUB_CRIC": os.path.join(tmp, "answer"),
        "CURL_STUB_DIR": tmp,
        "ROBOT_CERT": os.path.join(secrets, "robotcert.pem"),
        "ROBOT_KEY": os.path.join(secrets, "robotkey.pem"),
        "VAULT_TOKEN_FILE": os.path.join(secrets, "token"),
        "VAULT_ADDR": "https://vault.example:8200",
        "VAULT_SECRET": "secret/data/gridfront/gridfront-secrets",
        "MIN_RECORDS": "2", "MAX_BYTES": "100000", "WORKDIR": work,
    })
    env.update(env_extra or {})
    open(env["STUB_LOG"], "w").close()
    sh = shutil.which("dash") or "sh"
    r = subprocess.run([sh, CRIC_FETCH], capture_output=True, text=True,
                       env=env, timeout=60)
    with open(env["STUB_LOG"]) as f:
        r.calls = f.read().splitlines()
    patch = os.path.join(tmp, "patch.json")
    r.patch = None
    if os.path.exists(patch):
        with open(patch) as f:
            r.patch = json.load(f)
    return r


@test("cric-fetch.sh publishes the fetched file, byte for byte")
def t_cric_ok():
    answer = json.dumps(CRIC, ensure_ascii=False, indent=1).encode() + b"\n"
    with tempfile.TemporaryDirectory() as tmp:
        r = run_cric(tmp, answer)
        check(r.returncode == 0, r.stderr)
        check(r.patch, "no PATCH sent")
        check(r.patch["url"] == "https://vault.example:8200/v1/secret/data/"
              "gridfront/gridfront-secrets", r.patch["url"])
        check("X-Vault-Token: s.tok3n" in r.patch["headers"] and
              "Content-Type: application/merge-patch+json"
              in r.patch["headers"], r.patch["headers"])
        body = json.loads(r.patch["body"])
        check(body == {"data": {"users.json": answer.decode()}},
              "PATCH body is not exactly {data: {users.json: file}}")
        with open(os.path.join(tmp, "work", "users.json"), "rb") as f:
            check(f.read() == answer, "local copy differs")
        check(os.listdir(os.path.join(tmp, "work")) == ["users.json"],
              "leftovers: %s" % os.listdir(os.path.join(tmp, "work")))
        check(not any("s.tok3n" in c for c in r.calls),
              "the token appeared on a command line")
        check("fetched 3 records" in r.stderr and "version 42" in r.stderr,
              r.stderr)


@test("cric-fetch.sh keeps the old file on a bad or failed fetch")
def t_cric_bad():
    good = json.dumps(CRIC).encode()
    cases = [(good[:len(good) // 2], {}, "not a usable JSON array"),
             (b'{"DN": "x"}', {}, "not a usable JSON array"),
             (b"", {}, "not a usable JSON array"),
             (json.dumps(CRIC[:1]).encode(), {}, "only 1 usable records"),
             (good, {"MAX_BYTES": "100"}, "over MAX_BYTES"),
             (good, {"CURL_STUB_FETCH_FAIL": "1"}, "fetching"),
             (good, {"VAULT_TOKEN_FILE": "/nonexistent"}, "missing")]
    for answer, env, msg in cases:
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, "work"))
            with open(os.path.join(tmp, "work", "users.json"), "wb") as f:
                f.write(b"OLD")
            r = run_cric(tmp, answer, env)
            check(r.returncode != 0, "%s: succeeded" % msg)
            check(msg in r.stderr, "%r not in %r" % (msg, r.stderr))
            check(r.patch is None, "%s: still published" % msg)
            with open(os.path.join(tmp, "work", "users.json"), "rb") as f:
                check(f.read() == b"OLD", "%s: local copy replaced" % msg)


# ------------------------------------------------------------------ lint

@test("yamllint passes on deploy/ (deploy/.yamllint)")
def t_yamllint():
    exe = shutil.which("yamllint")
    check(exe, "yamllint is not installed (apt-get install yamllint)")
    r = subprocess.run([exe, "--strict", "-c",
                        os.path.join(DEPLOY, ".yamllint"), "deploy"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    check(r.returncode == 0, r.stdout + r.stderr)


@test("yamllint passes on the rendered Gatekeeper chart")
def t_yamllint_chart():
    exe = shutil.which("yamllint")
    check(exe, "yamllint is not installed")
    _, texts = chart()
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(DEPLOY, ".yamllint")) as f:
            conf = yaml.safe_load(f)
        conf.pop("ignore", None)
        # toJson writes ["a","b"], as real Helm does.
        conf["rules"]["commas"] = "disable"
        with open(os.path.join(tmp, "lint.yaml"), "w") as f:
            yaml.safe_dump(conf, f)
        for name, text in texts.items():
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        r = subprocess.run([exe, "--strict", "-c", "lint.yaml"] + sorted(
            texts), capture_output=True, text=True, cwd=tmp, timeout=60)
        check(r.returncode == 0, r.stdout + r.stderr)


@test("shell scripts: syntax, and shellcheck when installed")
def t_shell():
    for sh, path in (("bash", DEPLOY_SECRETS), ("sh", CRIC_FETCH)):
        r = subprocess.run([sh, "-n", path], capture_output=True, text=True)
        check(r.returncode == 0, r.stderr)
    exe = shutil.which("shellcheck")
    if not exe:
        note("shellcheck not installed: scripts only syntax-checked")
        return
    r = subprocess.run([exe, DEPLOY_SECRETS, CRIC_FETCH,
                        os.path.join(STUBS, "kubectl"),
                        os.path.join(HERE, "run.sh")],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, r.stdout)


# ------------------------------------------------------------------ main

def main():
    only = sys.argv[1:]
    passed = failed = 0
    for name, fn in TESTS:
        if only and not any(o in name for o in only):
            continue
        try:
            fn()
        except Fail as e:
            failed += 1
            print("FAIL %s\n     %s" % (name, str(e).replace("\n",
                                                            "\n     ")))
        except Exception:  # noqa: BLE001 - a crash is a failure too
            failed += 1
            print("FAIL %s (crashed)\n%s" % (name, traceback.format_exc()))
        else:
            passed += 1
            print("ok   %s" % name)
    print("deploy: the Gatekeeper rules were checked by their conditions in "
          "Python (tests/deploy/gatekeeper_rules.py): no Rego engine is "
          "available here.")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
