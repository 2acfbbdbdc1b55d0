#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# `make image`: build deploy/image/Dockerfile with Debian's own tools, no
# registry needed.  debootstrap --variant=minbase bookworm, from the Debian
# mirror apt already uses, makes the base rootfs (cached as a tarball in
# IMAGE_CACHE, so a second run on the same machine fetches nothing);
# buildah (storage driver vfs, chroot isolation) imports it as debian:12
# and builds the Dockerfile with --pull=never.  Root only.
#   IMAGE        tag to build (default: the one the manifests name)
#   IMAGE_CACHE  where the rootfs tarball is kept
# Prints the seconds each step took.
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${IMAGE:-registry.cern.ch/cmsweb/gridfront:0.1.0}
IMAGE_CACHE=${IMAGE_CACHE:-/var/cache/gridfront-image}
BASE=localhost/debian:12
export BUILDAH_ISOLATION=chroot
# vfs: works wherever the machine cannot mount overlay (nested containers).
buildah() { command buildah --storage-driver vfs "$@"; }

[ "$(id -u)" = 0 ] || { echo "make image: needs root (debootstrap, buildah)" >&2; exit 1; }
for t in debootstrap buildah; do
	type -P "$t" >/dev/null || {
		echo "make image: $t is not installed (bash .ci/deps.sh image)" >&2
		exit 1
	}
done

# The Debian mirror of apt's own sources (deb822 or one-line form).
mirror() {
	local m
	m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
	    awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }')
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
	    /etc/apt/sources.list 2>/dev/null)
	echo "${m:-http://deb.debian.org/debian}"
}

t0=$(date +%s)
tarball=$IMAGE_CACHE/bookworm-minbase.tar
if [ ! -s "$tarball" ]; then
	mkdir -p "$IMAGE_CACHE"
	root=$(mktemp -d "$IMAGE_CACHE/rootfs.XXXXXX")
	trap 'rm -rf "$root"' EXIT
	echo "image: debootstrap --variant=minbase bookworm from $(mirror)"
	debootstrap --variant=minbase bookworm "$root" "$(mirror)" \
	    >"$IMAGE_CACHE/debootstrap.log" 2>&1 ||
	    { tail -n 20 "$IMAGE_CACHE/debootstrap.log" >&2; exit 1; }
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
	tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$root"
	trap - EXIT
fi
t1=$(date +%s)
echo "image: base rootfs $((t1 - t0)) s ($tarball)"

# Import once per tarball: the image carries the tarball's mtime.
stamp=$(stat -c %Y "$tarball")
if [ "$(buildah inspect --type image --format '{{index .ImageAnnotations "gridfront.rootfs"}}' "$BASE" 2>/dev/null)" != "$stamp" ]; then
	ctr=$(buildah from scratch)
	buildah add "$ctr" "$tarball" / >/dev/null
	buildah config --cmd /bin/bash --annotation "gridfront.rootfs=$stamp" "$ctr"
	buildah commit --rm "$ctr" "$BASE" >/dev/null
fi
t2=$(date +%s)
echo "image: $BASE imported $((t2 - t1)) s"

old=$(buildah inspect --type image --format '{{.FromImageID}}' "$IMAGE" 2>/dev/null || true)
buildah build --isolation chroot --pull=never --layers=false \
    --build-arg DEBIAN="$BASE" -f deploy/image/Dockerfile -t "$IMAGE" .
# The previous build of the tag, now untagged, goes.
new=$(buildah inspect --type image --format '{{.FromImageID}}' "$IMAGE")
if [ -n "$old" ] && [ "$old" != "$new" ]; then
	buildah rmi "$old" >/dev/null 2>&1 || true
fi
t3=$(date +%s)
echo "image: $IMAGE built $((t3 - t2)) s"
