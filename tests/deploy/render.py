# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
"""
Render deploy/ without kubectl or helm: a small, strict stand-in for the
two, written for the test suite (tests/deploy/check.py).

kustomize(dir) builds a kustomization using only the features deploy/
uses: resources (files and directories), namespace, images,
configMapGenerator (files, options.labels, behavior create/replace/merge)
with kustomize's content-hash name suffix, and patches given as JSON 6902
operation lists with a kind/name target.  Any other field is an error, so
the stand-in cannot silently drift from what deploy/ asks of kustomize.
When kubectl is installed, check.py also renders with `kubectl kustomize`
and requires the same objects.

helm_template(chart) renders a chart whose templates use only: {{ .Values.x }},
{{ .Release.Name|Namespace|Service }}, {{ .Chart.Name|Version|AppVersion }},
the functions toJson and quote (prefix or piped), {{ if }}/{{ else }}/
{{ end }}, comments, and Go's whitespace trimming ({{- -}}).  Again,
anything else is an error.
"""

import copy
import hashlib
import json
import os
import re

import yaml


class RenderError(Exception):
    pass


# ---------------------------------------------------------------- helpers

CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "PersistentVolume", "StorageClass",
    "PriorityClass", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "ConstraintTemplate",
}


def load_docs(path):
    """All non-empty YAML documents of a file, in order."""
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def pod_specs(obj):
    """The pod specs inside a workload object (none for other kinds)."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return [spec]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                "Job", "ReplicationController"):
        return [spec.get("template", {}).get("spec", {})]
    if kind == "CronJob":
        return [spec.get("jobTemplate", {}).get("spec", {})
                .get("template", {}).get("spec", {})]
    return []


def all_containers(podspec):
    return (list(podspec.get("initContainers") or [])
            + list(podspec.get("containers") or []))


# ------------------------------------------------------------- kustomize

KUSTOMIZE_FIELDS = {"apiVersion", "kind", "resources", "namespace",
                    "images", "configMapGenerator", "patches"}


def kustomize_hash(cm):
    """kustomize's name suffix for a generated ConfigMap: sha256 over the
    JSON of {data, kind, name}, first 10 hex digits with 0,1,3,a,e
    replaced.  kustomize looks the name up under a path its lookup does
    not split, so it always hashes an empty name; we do the same."""
    doc = {"kind": "ConfigMap", "name": "", "data": cm.get("data") or {}}
    if cm.get("binaryData"):
        doc["binaryData"] = cm["binaryData"]
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    # Go's encoding/json escapes these three for HTML safety.
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise RenderError("JSON pointer %r must start with /" % path)
    return [p.replace("~1", "/").replace("~0", "~")
            for p in path[1:].split("/")]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, list):
            cur = cur[int(p)]
        elif isinstance(cur, dict):
            if p not in cur:
                raise RenderError("path element %r not found" % p)
            cur = cur[p]
        else:
            raise RenderError("cannot descend into a scalar at %r" % p)
    return cur


def json6902(doc, ops):
    """Apply a list of JSON 6902 operations (add, remove, replace, test)."""
    for op in ops:
        kind = op.get("op")
        parts = _pointer(op.get("path", ""))
        if not parts:
            raise RenderError("patching the whole document is not supported")
        parent = _walk(doc, parts[:-1])
        last = parts[-1]
        if kind in ("add", "replace"):
            value = copy.deepcopy(op["value"])
            if isinstance(parent, list):
                if last == "-":
                    parent.append(value)
                elif kind == "add":
                    parent.insert(int(last), value)
                else:
                    parent[int(last)] = value
            else:
                if kind == "replace" and last not in parent:
                    raise RenderError("replace: %s not found" % op["path"])
                parent[last] = value
        elif kind == "remove":
            if isinstance(parent, list):
                del parent[int(last)]
            else:
                del parent[last]
        elif kind == "test":
            if _walk(doc, parts) != op.get("value"):
                raise RenderError("test failed at %s" % op["path"])
        else:
            raise RenderError("unsupported patch op %r" % kind)
    return doc


def _target_matches(target, obj):
    for key, value in target.items():
        if key == "kind" and obj.get("kind") != value:
            return False
        if key == "name" and obj["metadata"].get("name") != value:
            return False
        if key not in ("kind", "name"):
            raise RenderError("unsupported patch target field %r" % key)
    return True


def _split_image(image):
    """name, tag, digest of an image reference."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        image, tag = image[:colon], image[colon + 1:]
    return image, tag, digest


def _set_images(obj, images):
    for podspec in pod_specs(obj):
        for c in all_containers(podspec):
            name, tag, digest = _split_image(c["image"])
            for im in images:
                extra = set(im) - {"name", "newName", "newTag", "digest"}
                if extra:
                    raise RenderError("unsupported images fields %s" % extra)
                if im["name"] != name:
                    continue
                name = im.get("newName", name)
                if "newTag" in im:
                    tag, digest = str(im["newTag"]), None
                if "digest" in im:
                    tag, digest = None, im["digest"]
                ref = name
                if tag:
                    ref += ":" + tag
                if digest:
                    ref += "@" + digest
                c["image"] = ref


def _configmap_refs(obj, renames):
    """Point a workload's ConfigMap references at the hashed names."""
    for podspec in pod_specs(obj):
        for vol in podspec.get("volumes") or []:
            if "configMap" in vol:
                n = vol["configMap"].get("name")
                vol["configMap"]["name"] = renames.get(n, n)
            for src in (vol.get("projected") or {}).get("sources") or []:
                if "configMap" in src:
                    n = src["configMap"].get("name")
                    src["configMap"]["name"] = renames.get(n, n)
        for c in all_containers(podspec):
            for env in c.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
                if ref:
                    ref["name"] = renames.get(ref["name"], ref["name"])
            for env in c.get("envFrom") or []:
                ref = env.get("configMapRef")
                if ref:
                    ref["name"] = renames.get(ref["name"], ref["name"])


def _generate(gen, base_dir):
    extra = set(gen) - {"name", "files", "behavior", "options", "literals"}
    if extra:
        raise RenderError("unsupported configMapGenerator fields %s" % extra)
    data = {}
    for entry in gen.get("files") or []:
        key, _, path = entry.partition("=")
        if not path:
            key, path = os.path.basename(entry), entry
        full = os.path.normpath(os.path.join(base_dir, path))
        if not full.startswith(os.path.normpath(base_dir) + os.sep):
            raise RenderError("%s is outside the kustomization root" % path)
        with open(full, encoding="utf-8") as f:
            data[key] = f.read()
    for lit in gen.get("literals") or []:
        key, _, value = lit.partition("=")
        data[key] = value
    options = gen.get("options") or {}
    if set(options) - {"labels", "annotations", "disableNameSuffixHash"}:
        raise RenderError("unsupported generator options %s" % options)
    meta = {"name": gen["name"]}
    if options.get("labels"):
        meta["labels"] = dict(options["labels"])
    if options.get("annotations"):
        meta["annotations"] = dict(options["annotations"])
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
          "data": data}
    hashed = not options.get("disableNameSuffixHash", False)
    return cm, hashed


def _build(directory):
    """Objects of one kustomization, generated ConfigMaps still unhashed.
    Returns a list of (object, hashed) pairs; hashed is None for
    ordinary resources."""
    path = os.path.join(directory, "kustomization.yaml")
    with open(path, encoding="utf-8") as f:
        k = yaml.safe_load(f)
    extra = set(k) - KUSTOMIZE_FIELDS
    if extra:
        raise RenderError("%s: unsupported fields %s" % (path, sorted(extra)))
    if k.get("kind", "Kustomization") != "Kustomization":
        raise RenderError("%s: not a Kustomization" % path)

    items = []
    for res in k.get("resources") or []:
        full = os.path.normpath(os.path.join(directory, res))
        if os.path.isdir(full):
            items.extend(_build(full))
        else:
            items.extend((d, None) for d in load_docs(full))

    for gen in k.get("configMapGenerator") or []:
        cm, hashed = _generate(gen, directory)
        behavior = gen.get("behavior", "create")
        found = [i for i, (o, h) in enumerate(items)
                 if h is not None and o["metadata"]["name"] == gen["name"]]
        if behavior == "create":
            if found:
                raise RenderError("generator %s already exists" % gen["name"])
            items.append((cm, hashed))
        elif behavior in ("replace", "merge"):
            if not found:
                raise RenderError("no generator %s to %s"
                                  % (gen["name"], behavior))
            old, old_hashed = items[found[0]]
            new = copy.deepcopy(old)
            if behavior == "replace":
                new["data"] = cm["data"]
            else:
                new["data"].update(cm["data"])
            for field in ("labels", "annotations"):
                if cm["metadata"].get(field):
                    new["metadata"].setdefault(field, {}).update(
                        cm["metadata"][field])
            items[found[0]] = (new, old_hashed and hashed)
        else:
            raise RenderError("unknown generator behavior %r" % behavior)

    for patch in k.get("patches") or []:
        if set(patch) - {"path", "patch", "target"}:
            raise RenderError("unsupported patch fields %s" % patch)
        if "path" in patch:
            with open(os.path.join(directory, patch["path"]),
                      encoding="utf-8") as f:
                ops = yaml.safe_load(f)
        else:
            ops = yaml.safe_load(patch["patch"])
        if not isinstance(ops, list):
            raise RenderError("only JSON 6902 patches are supported")
        target = patch.get("target")
        if not target:
            raise RenderError("a JSON 6902 patch needs a target")
        hits = [o for o, _ in items if _target_matches(target, o)]
        if not hits:
            raise RenderError("patch target %s matches nothing" % target)
        for o in hits:
            json6902(o, ops)

    if k.get("images"):
        for o, _ in items:
            _set_images(o, k["images"])

    if k.get("namespace"):
        for o, _ in items:
            if o.get("kind") in ("RoleBinding", "ClusterRoleBinding"):
                raise RenderError("bindings need kustomize's subject "
                                  "namespace handling; not supported")
            if o.get("kind") not in CLUSTER_SCOPED:
                o["metadata"]["namespace"] = k["namespace"]
    return items


def kustomize(directory):
    """Render a kustomization directory to a list of objects."""
    items = _build(directory)
    renames = {}
    for o, hashed in items:
        if hashed:
            old = o["metadata"]["name"]
            new = old + "-" + kustomize_hash(o)
            o["metadata"]["name"] = new
            renames[old] = new
    objs = [o for o, _ in items]
    for o in objs:
        _configmap_refs(o, renames)
    return objs


# ------------------------------------------------------------------ helm

_ACTION = re.compile(r"\{\{(-?)(\s*)(.*?)(\s*)(-?)\}\}", re.S)


def _go_json(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def _go_print(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<no value>"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        raise RenderError("printing a map or list needs toJson")
    return str(value)


def _truthy(value):
    return not (value is None or value is False or value == 0
                or value == "" or value == [] or value == {})


def _lookup(ctx, ref):
    if not ref.startswith("."):
        raise RenderError("unsupported operand %r" % ref)
    cur = ctx
    for part in ref[1:].split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif part in ("Values", "Release", "Chart"):
            raise RenderError("missing context %s" % part)
        else:
            return None
    return cur


def _operand(ctx, tok):
    if tok.startswith('"') and tok.endswith('"'):
        return json.loads(tok)
    if re.fullmatch(r"-?\d+", tok):
        return int(tok)
    return _lookup(ctx, tok)


def _call(ctx, words, piped=None):
    """Evaluate one pipeline stage: OPERAND or FUNC ARG..."""
    funcs = {"toJson": _go_json, "quote": lambda v: json.dumps(
        _go_print(v) if v is not None else "")}
    if words[0] in funcs:
        args = [_operand(ctx, w) for w in words[1:]]
        if piped is not None:
            args.append(piped[0])
        if len(args) != 1:
            raise RenderError("%s takes one argument" % words[0])
        return (funcs[words[0]](args[0]), True)
    if piped is not None or len(words) != 1:
        raise RenderError("unsupported expression %r" % " ".join(words))
    return (_operand(ctx, words[0]), False)


def _pipeline(ctx, expr):
    """Value of a pipeline; the flag says a function already formatted it."""
    result = None
    for stage in expr.split("|"):
        words = stage.split()
        if not words:
            raise RenderError("empty pipeline stage in %r" % expr)
        result = _call(ctx, words, result)
    return result


def render_template(text, ctx):
    """Render one template text with Go template semantics (the subset)."""
    pieces = []          # (kind, payload): ("text", s) or ("act", expr)
    pos = 0
    for m in _ACTION.finditer(text):
        before = text[pos:m.start()]
        if m.group(1):
            before = before.rstrip(" \t\r\n")
        pieces.append(["text", before])
        pieces.append(["act", m.group(3), bool(m.group(5))])
        pos = m.end()
    pieces.append(["text", text[pos:]])
    # Right-trim: strip the whitespace after an action marked "-}}".
    for i, p in enumerate(pieces):
        if p[0] == "act" and p[2] and i + 1 < len(pieces):
            pieces[i + 1][1] = pieces[i + 1][1].lstrip(" \t\r\n")

    out = []
    stack = []           # each: [emitting_before, condition_taken]

    def emitting():
        return all(s[0] for s in stack)

    for p in pieces:
        if p[0] == "text":
            if emitting():
                out.append(p[1])
            continue
        expr = p[1]
        if expr.startswith("/*"):
            if not expr.endswith("*/"):
                raise RenderError("unterminated comment")
            continue
        word = expr.split()[0] if expr.split() else ""
        if word == "if":
            cond = emitting() and _truthy(_pipeline(ctx, expr[2:])[0])
            stack.append([cond, cond])
        elif word == "else":
            if not stack or expr != "else":
                raise RenderError("unsupported else: %r" % expr)
            stack[-1][0] = not stack[-1][1]
        elif word == "end":
            if not stack:
                raise RenderError("end without if")
            stack.pop()
        elif word in ("range", "with", "define", "template", "include",
                      "block", "define"):
            raise RenderError("unsupported action %r" % word)
        elif emitting():
            value, formatted = _pipeline(ctx, expr)
            out.append(value if formatted else _go_print(value))
    if stack:
        raise RenderError("if without end")
    return "".join(out)


def _merge(base, over):
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def helm_template(chart_dir, release="gridfront-policies",
                  namespace="gatekeeper-system", values=None):
    """Render a chart.  Returns (objects, {template file: rendered text})."""
    with open(os.path.join(chart_dir, "Chart.yaml"), encoding="utf-8") as f:
        chart = yaml.safe_load(f)
    if chart.get("apiVersion") != "v2":
        raise RenderError("Chart.yaml: apiVersion must be v2")
    with open(os.path.join(chart_dir, "values.yaml"), encoding="utf-8") as f:
        vals = yaml.safe_load(f) or {}
    _merge(vals, values or {})
    ctx = {
        "Values": vals,
        "Release": {"Name": release, "Namespace": namespace,
                    "Service": "Helm"},
        "Chart": {"Name": chart["name"], "Version": chart["version"],
                  "AppVersion": chart.get("appVersion")},
    }
    tdir = os.path.join(chart_dir, "templates")
    objs, texts = [], {}
    for name in sorted(os.listdir(tdir)):
        if name.startswith("_") or not name.endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(tdir, name), encoding="utf-8") as f:
            text = render_template(f.read(), ctx)
        texts[name] = text
        try:
            objs.extend(d for d in yaml.safe_load_all(text) if d is not None)
        except yaml.YAMLError as e:
            raise RenderError("templates/%s renders to bad YAML: %s"
                              % (name, e))
    return objs, texts
