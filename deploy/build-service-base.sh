#!/usr/bin/env bash
# A base image for deploy/service.Dockerfile without a registry: Debian trixie from the machine's
# own Debian mirror with Node.js 20, npm, libbpf-dev and the native-addon build tools, imported
# into the local engine. Then:
#   docker build -f deploy/service.Dockerfile --build-arg BASE=lbc-service-base:trixie --target api -t lbc-api:1 .
#   docker build -f deploy/service.Dockerfile --build-arg BASE=lbc-service-base:trixie --target worker -t lbc-worker:1 .
# Idempotent: exits early if the tag exists (LBC_BASE_REBUILD=1 to force).
set -euo pipefail
image=${LBC_SERVICE_BASE:-lbc-service-base:trixie}
if [ -z "${LBC_BASE_REBUILD:-}" ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "service base image $image already present"; exit 0
fi
mirror=${LBC_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
rootfs=$(mktemp -d /var/tmp/lbc-service-rootfs.XXXXXX)
trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
echo "debootstrap trixie from $mirror (about a minute)"
debootstrap --variant=minbase --include=nodejs,libnode-dev,libbpf-dev,python3,make,g++,ca-certificates \
  trixie "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -30 "$rootfs.log"; exit 1; }
# npm's many node-* packages fail to configure inside debootstrap; apt orders them fine.
mount -t proc proc "$rootfs/proc"
trap 'umount "$rootfs/proc" 2>/dev/null || true; rm -rf "$rootfs" "$rootfs.log"' EXIT
chroot "$rootfs" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm' >>"$rootfs.log" 2>&1 \
  || { tail -30 "$rootfs.log"; exit 1; }
umount "$rootfs/proc"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*
node_version=$(chroot "$rootfs" node --version)
npm_version=$(chroot "$rootfs" npm --version)
tar -C "$rootfs" -c . | docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' - "$image" >/dev/null
echo "built $image (node $node_version, npm $npm_version)"
