#!/usr/bin/env bash
# Install every Debian 12 package the build, the tests and the benchmark
# need.  Idempotent; does nothing when all are present.
set -eu
pkgs="build-essential pkg-config libssl-dev libevent-dev libyaml-dev
libcmocka-dev libjansson-dev node-llhttp voms-dev voms-clients openssl curl python3-yaml
python3-cryptography python3-jwt python3-h2 python3-hyperframe
wrk nginx haproxy yamllint prometheus clang clang-tidy cppcheck jq
python3 procps psmisc
python3-cherrypy3
libnghttp2-dev nghttp2-client"
# `deps.sh deb`: also what the Debian package test needs (make deb-test);
# `deps.sh image`: also what make image / image-test need; `deps.sh
# browser`: what make browser-test needs; `deps.sh build`:
# only what building the binary needs (the image's build stage).
case "${1:-}" in
deb)	pkgs="$pkgs debhelper lintian dpkg-dev" ;;
image)	pkgs="$pkgs buildah debootstrap" ;;
browser) pkgs="$pkgs chromium libnss3-tools python3-websocket" ;;
build)	pkgs="build-essential pkg-config libssl-dev libevent-dev libyaml-dev
	libjansson-dev node-llhttp libnghttp2-dev" ;;
esac
missing=""
for p in $pkgs; do
	[[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == *"ok installed" ]] ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || { echo "need root to install:$missing" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Services must not start on install: the tests start their own.
	[ -e /usr/sbin/policy-rc.d ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -qq --no-install-recommends $missing
fi
