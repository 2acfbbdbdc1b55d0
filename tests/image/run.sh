#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The container image (issue 16), after `make image` (`make image-test`
# runs both; root; CI runs it once, never under SANITIZE=1):
#  - image and manifests agree: the user is the Deployment's runAsUser /
#    runAsGroup, the exposed ports are the container ports (and those the
#    ConfigMap's listeners and admin use), STOPSIGNAL is SIGTERM (the
#    drain), entrypoint + cmd are the container's command + args, every
#    exec path the manifests name (command, preStop) is an executable in
#    the image, the mount points exist, and every file the ConfigMap names
#    lies under a mounted path;
#  - the runtime stage holds only the binary, its libraries, /bin/sleep,
#    the config and passwd/group (no shell);
#  - gridfront started from the image with `buildah run` (chroot
#    isolation, host network), as the image's user, with its own command,
#    a test config, the test PKI and secret files mounted read-only at the
#    manifests' paths, answers the probe endpoints, passes an authenticated
#    request to a test backend on loopback with the signed identity
#    headers, runs the preStop command, and exits 0 on SIGTERM.

. "$(dirname "$0")/../e2e/lib.sh"

IMAGE=${IMAGE:-registry.cern.ch/cmsweb/gridfront:0.1.0}
export BUILDAH_ISOLATION=chroot
# vfs: works wherever the machine cannot mount overlay (nested containers).
buildah() { command buildah --storage-driver vfs "$@"; }
[ "$(id -u)" = 0 ] || die "needs root (buildah)"
type -P buildah >/dev/null || die "buildah is not installed (bash .ci/deps.sh image)"
buildah inspect --type image "$IMAGE" >"$WORK/image.json" 2>"$WORK/inspect.err" ||
    die "no image $IMAGE (make image): $(head -n 2 "$WORK/inspect.err")"
CTR=
MNT=
image_cleanup() {
	[ -n "$MNT" ] && buildah umount "$CTR" >/dev/null 2>&1
	[ -n "$CTR" ] && buildah rm "$CTR" >/dev/null 2>&1
	cleanup
}
trap image_cleanup EXIT
CTR=$(buildah from --pull=never "$IMAGE") || die "buildah from $IMAGE failed"
MNT=$(buildah mount "$CTR") || die "buildah mount failed"

# ------------------------------------------------------------------ agreement
cat >"$WORK/agree.py" <<'PY'
import json, os, stat, sys, yaml
root, image_json, mnt = sys.argv[1], sys.argv[2], sys.argv[3]
img = json.load(open(image_json))
cfg = img["OCIv1"]["config"]
dep = yaml.safe_load(open(os.path.join(root, "deploy/kubernetes/base/deployment.yaml")))
conf = yaml.safe_load(open(os.path.join(root, "deploy/kubernetes/base/gridfront.yaml")))
pod = dep["spec"]["template"]["spec"]
ann = dep["spec"]["template"]["metadata"].get("annotations", {})
c = [x for x in pod["containers"] if x["name"] == "gridfront"][0]
out = []
def check(ok, what):
    out.append(("PASS " if ok else "FAIL ") + what)
sc = pod.get("securityContext", {})
check(cfg.get("User") == "%s:%s" % (sc.get("runAsUser"), sc.get("runAsGroup")),
      "user %s = runAsUser:runAsGroup %s:%s" % (cfg.get("User"), sc.get("runAsUser"), sc.get("runAsGroup")))
check(sc.get("runAsUser", 0) != 0 and sc.get("runAsNonRoot") is True, "non-root in the manifest")
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
exposed = sorted(int(p.split("/")[0]) for p in cfg.get("ExposedPorts", {}))
check(exposed == sorted(ports.values()), "EXPOSE %s = container ports %s" % (exposed, sorted(ports.values())))
lports = sorted(int(l["address"].rsplit(":", 1)[1]) for l in conf["listen"])
aport = int(conf["admin"]["address"].rsplit(":", 1)[1])
check(sorted(lports + [aport]) == sorted(ports.values()),
      "ConfigMap listeners + admin %s = container ports" % sorted(lports + [aport]))
check(ports.get("admin") == aport, "container port 'admin' is the admin listener")
check(cfg.get("StopSignal") == "SIGTERM", "STOPSIGNAL %s is SIGTERM (the drain)" % cfg.get("StopSignal"))
ep = (cfg.get("Entrypoint") or []) + (cfg.get("Cmd") or [])
check(ep == c["command"] + c["args"], "entrypoint+cmd %s = command+args %s" % (ep, c["command"] + c["args"]))
def exe(p):
    f = os.path.join(mnt, p.lstrip("/"))
    return os.path.isfile(f) and os.stat(f).st_mode & stat.S_IXOTH
check(exe(c["command"][0]), "command %s is an executable in the image" % c["command"][0])
pre = c["lifecycle"]["preStop"]["exec"]["command"]
check(exe(pre[0]), "preStop %s is an executable in the image" % pre[0])
mounts = [m["mountPath"] for m in c["volumeMounts"]]
secrets = ann.get("vault.hashicorp.com/secret-volume-path")
if secrets:
    mounts.append(secrets)
for m in mounts:
    check(os.path.isdir(os.path.join(mnt, m.lstrip("/"))), "mount point %s exists in the image" % m)
check(os.path.isfile(os.path.join(mnt, c["args"][-1].lstrip("/"))), "config %s in the image" % c["args"][-1])
files = [l["tls"][k] for l in conf["listen"] if "tls" in l for k in ("certificate", "key")]
files += [conf["auth"][k] for k in ("ca_path", "vomsdir", "users", "hmac_key", "banned") if conf["auth"].get(k)]
for f in files:
    check(any(f == m or f.startswith(m.rstrip("/") + "/") for m in mounts),
          "config file %s lies under a mounted path" % f)
for p in ("readinessProbe", "livenessProbe", "startupProbe"):
    hg = c[p]["httpGet"]
    check(hg["port"] in ("admin", aport), "%s on the admin port" % p)
    print("PROBE %s" % hg["path"])
ro = c.get("securityContext", {}).get("readOnlyRootFilesystem")
check(ro is True, "readOnlyRootFilesystem in the manifest")
check(not os.path.exists(os.path.join(mnt, "bin/sh")) and not os.path.exists(os.path.join(mnt, "usr/bin/apt-get")),
      "no shell and no package manager in the image")
odd = []
for d, _, fs in os.walk(mnt):
    for f in fs:
        rel = "/" + os.path.relpath(os.path.join(d, f), mnt)
        if rel in ("/usr/sbin/gridfront", "/bin/sleep", "/etc/passwd", "/etc/group",
                   "/etc/gridfront/gridfront.yaml") or rel.startswith(("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/")):
            continue
        odd.append(rel)
check(not odd, "only binary, libraries, sleep, config and passwd/group in the image %s" % odd[:5])
for l in out:
    print(l)
PY
/usr/bin/python3 "$WORK/agree.py" "$ROOT" "$WORK/image.json" "$MNT" >"$WORK/agree.out" 2>&1
while IFS= read -r l; do
	case $l in
	"PASS "*) pass "${l#PASS }" ;;
	"FAIL "*) fail "${l#FAIL }" ;;
	PROBE*) ;;
	*) fail "agreement check: $l" ;;
	esac
done <"$WORK/agree.out"

# ------------------------------------------------------------------ run
# The manifests' paths, with test content: config in /etc/gridfront, the
# CA and VOMS directories in /etc/grid-security, the Vault-rendered files
# (0400, owned by the image's user) in /etc/secrets.
UG=$(jq -r '.OCIv1.config.User' "$WORK/image.json")
mkdir -p "$WORK/m/gridfront" "$WORK/m/grid-security" "$WORK/m/secrets"
cp -r "$PKI/certificates" "$PKI/vomsdir" "$WORK/m/grid-security/"
cp "$PKI/server.pem" "$WORK/m/secrets/hostcert.pem"
cp "$PKI/server.key" "$WORK/m/secrets/hostkey.pem"
cp "$PKI/users.json" "$WORK/m/secrets/users.json"
cp "$PKI/hmac.key" "$WORK/m/secrets/hmac"
chown -R "$UG" "$WORK/m/secrets"
chmod 0400 "$WORK"/m/secrets/*
chmod -R a+rX "$WORK/m/grid-security" "$WORK/m/gridfront"
chmod 0755 "$WORK" "$WORK/m"
start_backend A
PX_PORT=$(free_port)
ADMIN_PORT=$(free_port)
cat >"$WORK/m/gridfront/gridfront.yaml" <<EOF
# generated by tests/image/run.sh: the base ConfigMap's paths, loopback ports
workers: 2
listen:
  - address: "127.0.0.1:$PX_PORT"
    tls:
      certificate: /etc/secrets/hostcert.pem
      key: /etc/secrets/hostkey.pem
routes:
  - path: /
    backends: [$(be_url A)]
    auth: cert
auth:
  ca_path: /etc/grid-security/certificates
  vomsdir: /etc/grid-security/vomsdir
  users: /etc/secrets/users.json
  hmac_key: /etc/secrets/hmac
admin:
  address: "127.0.0.1:$ADMIN_PORT"
log:
  format: json
EOF
chmod 0444 "$WORK/m/gridfront/gridfront.yaml"
mapfile -t CMDLINE < <(jq -r '(.OCIv1.config.Entrypoint // []) + (.OCIv1.config.Cmd // []) | .[]' "$WORK/image.json")
timeout 120 buildah --storage-driver vfs run --isolation chroot --user "$UG" \
    -v "$WORK/m/gridfront:/etc/gridfront:ro" \
    -v "$WORK/m/grid-security:/etc/grid-security:ro" \
    -v "$WORK/m/secrets:/etc/secrets:ro" \
    "$CTR" -- "${CMDLINE[@]}" >"$WORK/run.out" 2>"$WORK/run.err" &
RUN_PID=$!
PIDS+=("$RUN_PID")
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$ADMIN_PORT/readyz")" = 200 ]; }
if wait_until 30 ready; then pass "gridfront from the image is ready (/readyz 200)"
else fail "gridfront from the image is ready" "$(tail -n 5 "$WORK/run.err")"; fi
for p in $(awk '/^PROBE/{print $2}' "$WORK/agree.out" | sort -u); do
	assert_eq "probe path $p answers 200 on the admin port" 200 \
	    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$ADMIN_PORT$p")"
done
GPID=$(ps -e -o pid=,comm= | awk '$2 == "gridfront" {print $1}' | while read -r p; do
	a=$p
	while [ "$a" -gt 1 ]; do
		[ "$a" = "$RUN_PID" ] && { echo "$p"; break; }
		a=$(ps -o ppid= -p "$a" | tr -d ' ')
		[ -n "$a" ] || break
	done
done | head -n 1)
[ -n "$GPID" ] || fail "gridfront process under buildah run found"
if [ -n "$GPID" ]; then
	assert_eq "runs as the image's user" "$UG" \
	    "$(ps -o uid=,gid= -p "$GPID" | awk '{print $1 ":" $2}')"
fi
code=$(gcurl -o "$WORK/body" -w '%{http_code}' --cert "$PKI/creds/alice.pem" "$(px_url)/x")
assert_eq "authenticated request passed to the backend" 200 "$code"
assert_contains "backend got the signed identity (cms-authn-dn)" \
    "$(json_headers "$(cat "$WORK/body")" cms-authn-dn)" "CN="
assert_ne "backend got the HMAC (cms-authn-hmac)" "" \
    "$(json_headers "$(cat "$WORK/body")" cms-authn-hmac)"
assert_eq "unauthenticated request refused" 403 \
    "$(gcurl -o /dev/null -w '%{http_code}' "$(px_url)/x")"
pre=$(python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
c = d["spec"]["template"]["spec"]["containers"][0]
print(" ".join(c["lifecycle"]["preStop"]["exec"]["command"][:1]))' \
    "$ROOT/deploy/kubernetes/base/deployment.yaml")
if timeout 20 buildah --storage-driver vfs run --isolation chroot --user "$UG" "$CTR" -- "$pre" 0 \
    >"$WORK/pre.out" 2>&1; then pass "preStop command ($pre 0) runs in the image"
else fail "preStop command ($pre 0) runs in the image" "$(tail -n 3 "$WORK/pre.out")"; fi

if [ -n "$GPID" ]; then
	kill -TERM "$GPID"
	wait_until 20 eval "! alive $RUN_PID"
	wait "$RUN_PID"
	assert_eq "SIGTERM: drains and exits 0" 0 "$?"
fi
finish
