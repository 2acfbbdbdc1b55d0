#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Tests for deploy/ (Kubernetes manifests, Gatekeeper chart, Vault and CRIC
# scripts).  Needs only Debian packages: python3, python3-yaml, yamllint
# and jq; vault, kubectl and curl are replaced by stand-ins
# (tests/deploy/stubs/).  Where installed, a real kubectl (its built-in
# kustomize) and shellcheck are used too.  Ends with "N passed, M failed" and
# exits non-zero on any failure.  Arguments select tests by name.
set -u
cd "$(dirname "$0")/../.." || exit 1

# Debian's interpreter, where python3-yaml lives; any python3 otherwise.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3) || {
	echo "tests/deploy: python3 not found"
	echo "0 passed, 1 failed"
	exit 1
}
missing=""
"$py" -c 'import yaml' 2>/dev/null || missing="$missing python3-yaml"
for tool in yamllint jq iconv; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	echo "tests/deploy: missing:$missing (apt-get install$missing)"
	echo "0 passed, 1 failed"
	exit 1
fi
exec "$py" tests/deploy/check.py "$@"
