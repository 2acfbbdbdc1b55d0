# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Helpers shared by the ops tests (tests/ops/t_*.sh), sourced after
# tests/e2e/lib.sh, whose work directory, process list, assertions and
# finish() they use.  They add what the ops tests need on top: a private
# writable copy of the test PKI's auth files, the admin listener's metrics
# (summed over workers), bounded polling of a condition, the TLS probe
# (tests/ops/tlsprobe.py) that holds a connection or a session across a
# change, an independent HMAC check of the cms-authn/cms-authz headers a
# backend received (PROTOCOL.md), and waiting for access-log lines (the
# proxy writes them off the hot path, so they appear a little later).

OPS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROBE=$OPS_DIR/tlsprobe.py
ADMIN_PORT=
declare -A PROBE_PID=()

command -v python3 >/dev/null || die "python3 is not installed"

# ops_pki DIR: a private copy of the auth files (CA directory with CRLs,
# users, ban list, HMAC key, host certificate and key) that tests modify.
ops_pki() {
	local d=$1
	mkdir -p "$d"
	cp -r "$PKI/certificates" "$d/certificates"
	cp "$PKI/users.json" "$PKI/banned.txt" "$PKI/server.pem" \
	    "$PKI/server.key" "$PKI/server-ec.pem" "$PKI/server-ec.key" "$d/"
	cp "$PKI/hmac.key" "$d/hmac.key"
	chmod 0600 "$d/hmac.key" "$d/server.key" "$d/server-ec.key"
	INT_HASH=$(openssl x509 -hash -noout -in "$PKI/crl/int.pem")
	[ -f "$d/certificates/$INT_HASH.r0" ] ||
	    die "no intermediate CRL $INT_HASH.r0 in the PKI copy"
}

admin_url() { echo "http://127.0.0.1:$ADMIN_PORT"; }

# scrape: the admin /metrics text (empty on failure).
scrape() { curl -s --max-time 5 "$(admin_url)/metrics"; }

# metric NAME [LABEL="VALUE"...]: the sum of every sample of NAME whose
# labels include all the given pairs (workers are summed); 0 when none.
# A "-" as text means the scrape failed.
metric() {
	local name=$1 text; shift
	text=$(scrape) || { echo -; return; }
	[ -n "$text" ] || { echo -; return; }
	awk -v n="$name" -v want="$(printf '%s\037' "$@")" '
	    BEGIN { k = split(want, w, "\037"); if (k > 0 && w[k] == "") k-- }
	    /^#/ { next }
	    {
		i = index($0, "{"); s = index($0, " ")
		if (i > 0 && i < s) { nm = substr($0, 1, i - 1)
		    lb = substr($0, i, index($0, "}") - i + 1) }
		else { nm = substr($0, 1, s - 1); lb = "" }
		if (nm != n) next
		for (j = 1; j <= k; j++) if (w[j] != "" && index(lb, w[j]) == 0) next
		sum += $NF
	    }
	    END { if (sum == int(sum)) printf "%d\n", sum; else printf "%.6f\n", sum }' \
	    <<<"$text"
}

# poll SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds;
# POLL_MS is how long it took (or the whole bound on failure).
poll() {
	local secs=$1 t0 n i=0; shift
	t0=$(now_ms)
	n=$((secs * 10))
	while [ $i -le $n ]; do
		if "$@" >/dev/null 2>&1; then
			POLL_MS=$(($(now_ms) - t0))
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	POLL_MS=$(($(now_ms) - t0))
	return 1
}

# metric_ge NAME VALUE [LABEL...]: is the metric at least VALUE?
metric_ge() {
	local name=$1 v=$2 got; shift 2
	got=$(metric "$name" "$@")
	[[ "$got" =~ ^[0-9]+$ ]] && [ "$got" -ge "$v" ]
}

# probe_start NAME PORT [tlsprobe args...]: start a probe that makes its
# first exchange, then waits for probe_go NAME; returns once it is ready.
probe_start() {
	local name=$1 port=$2 i=0; shift 2
	rm -f "$WORK/probe-$name".*
	timeout 60 python3 "$PROBE" --port "$port" --ca "$PKI/ca-bundle.pem" \
	    --ready "$WORK/probe-$name.ready" --go "$WORK/probe-$name.go" "$@" \
	    >"$WORK/probe-$name.out" 2>&1 &
	PROBE_PID[$name]=$!
	PIDS+=("$!")
	while [ $i -lt 200 ]; do
		[ -f "$WORK/probe-$name.ready" ] && return 0
		kill -0 "${PROBE_PID[$name]}" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	fail "probe $name got ready" "$(cat "$WORK/probe-$name.out")"
	return 1
}

probe_go() { : >"$WORK/probe-$1.go"; }

# probe_wait NAME: wait for the probe; sets PROBE_RC and PROBE_OUT.
probe_wait() {
	wait "${PROBE_PID[$1]}" 2>/dev/null
	PROBE_RC=$?
	PROBE_OUT=$(cat "$WORK/probe-$1.out")
}

# probe_field NAME FIELD: a key=value field of the probe's RESULT line.
probe_field() {
	grep -m1 '^RESULT' "$WORK/probe-$1.out" | tr ' ' '\n' |
	    awk -F= -v k="$2" '$1 == k { print substr($0, length(k) + 2); exit }'
}

# hmac_check ECHO_JSON KEYFILE: succeed when the cms-authn-hmac header the
# backend received is HMAC-SHA1(KEYFILE's raw bytes) over the cms-authn-*
# and cms-authz-* headers it received, computed here from PROTOCOL.md.
# Prints "expected got" on mismatch.
hmac_check() {
	python3 - "$2" 3<<<"$1" <<'EOF'
import hashlib, hmac, json, os, sys
echo = json.load(os.fdopen(3))
key = open(sys.argv[1], "rb").read()
signed, got = [], []
for name, value in echo["headers"]:
    low = name.lower()
    if low == "cms-authn-hmac":
        got.append(value)
    elif low.startswith("cms-authn") or low.startswith("cms-authz"):
        signed.append((low.encode(), value.encode("utf-8")))
signed.sort(key=lambda h: h[0])
msg = b"".join(b"h%xv%x" % (len(n), len(v)) for n, v in signed) + b"#" + \
    b"".join(n + v for n, v in signed)
exp = hmac.new(key, msg, hashlib.sha1).hexdigest()
if len(got) != 1 or got[0] != exp:
    print(exp, got)
    sys.exit(1)
EOF
}

# wait_log FILE ERE [SECONDS]: wait for a line matching ERE in FILE.
wait_log() {
	poll "${3:-5}" grep -qE -- "$2" "$1"
}

# px_alive DESC: fail (with the error log's tail) when the proxy is gone;
# an unexpected exit would otherwise show up as a cascade of odd failures.
px_alive() {
	if [ -n "$PX_PID" ] && kill -0 "$PX_PID" 2>/dev/null; then
		pass "$1"
		return 0
	fi
	fail "$1" "the proxy is gone; last log lines:" \
	    "$(tail -n 5 "${ERRLOG:-$PX_LOG}" 2>/dev/null | tr '\n' '|')"
	return 1
}
