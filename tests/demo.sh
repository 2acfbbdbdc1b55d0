#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# `make run`: the built-in demo.  Generates a test PKI into $BUILD/demo
# (CA directory with CRLs, a server certificate, user credentials, a CRIC
# users file, an HMAC key, a vomsdir), starts the echo backend on
# 127.0.0.1:8081, prints curl lines to try, and runs gridfront in the
# foreground on conf/examples/demo.yaml.  Ctrl-C stops the proxy, and the
# backend goes with it.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
# conf/examples/demo.yaml names ../../build/demo, whatever BUILD is.
DEMO=${DEMO_DIR:-build/demo}
CONF=${DEMO_CONF:-conf/examples/demo.yaml}
BACKEND_PORT=8081

for b in "$BUILD/gridfront" "$BUILD/tests/backend"; do
	[ -x "$b" ] || { echo "demo: $b is missing (make $b)" >&2; exit 1; }
done
[ -f "$CONF" ] || { echo "demo: $CONF is missing" >&2; exit 1; }

echo "demo: generating the demo PKI in $DEMO (once)..."
timeout 300 bash tests/fixtures/certs/mkcerts.sh "$DEMO" >"$BUILD/demo-mkcerts.log" 2>&1 || {
	cat "$BUILD/demo-mkcerts.log" >&2
	echo "demo: mkcerts.sh failed" >&2
	exit 1
}

# A port held by an earlier, interrupted demo is the usual failure.
if (exec 3<>"/dev/tcp/127.0.0.1/$BACKEND_PORT") 2>/dev/null; then
	echo "demo: 127.0.0.1:$BACKEND_PORT is already in use; stop whatever holds it" >&2
	exit 1
fi

"$BUILD/tests/backend" --port "$BACKEND_PORT" --id demo-backend \
    >"$BUILD/demo-backend.out" 2>"$BUILD/demo-backend.err" &
BACKEND_PID=$!
cleanup() {
	kill -TERM "$BACKEND_PID" 2>/dev/null
	wait "$BACKEND_PID" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 100); do
	grep -q '^PORT ' "$BUILD/demo-backend.out" 2>/dev/null && break
	kill -0 "$BACKEND_PID" 2>/dev/null || break
	sleep 0.05
done
grep -q '^PORT ' "$BUILD/demo-backend.out" 2>/dev/null || {
	cat "$BUILD/demo-backend.err" >&2
	echo "demo: the backend did not start" >&2
	exit 1
}

# The first listener with a tls: block is the one to show.
port=$(awk '/address:/ { a = $NF } /tls:/ && a != "" { sub(/.*:/, "", a); print a; exit }' \
    "$CONF" | tr -dc '0-9')
port=${port:-8443}
cat <<EOF

demo: backend on http://127.0.0.1:$BACKEND_PORT (echoes what it receives)
demo: starting gridfront -c $CONF; try, from $ROOT:

  curl --cacert $DEMO/ca-bundle.pem --cert $DEMO/creds/alice.pem https://localhost:$port/
  curl --cacert $DEMO/ca-bundle.pem https://localhost:$port/auth/trouble

Ctrl-C stops it.

EOF
# Not exec: the EXIT trap must still stop the backend when the proxy ends.
"$BUILD/gridfront" -c "$CONF" &
GF_PID=$!
trap 'kill -INT "$GF_PID" 2>/dev/null' INT
trap 'kill -TERM "$GF_PID" 2>/dev/null' TERM
wait "$GF_PID"
rc=$?
# wait returns early when a trapped signal arrives; wait for the real exit.
while kill -0 "$GF_PID" 2>/dev/null; do wait "$GF_PID"; rc=$?; done
exit "$rc"
