#!/usr/bin/env bash
# A base image for deploy/service.Dockerfile without a registry: Debian trixie from the machine's
# own Debian mirror with Node.js 20, npm, libbpf-dev, the native-addon build tools and
# redis-server, imported into the local engine. docker-compose.yml uses it offline through
# deploy/offline.env (as the api/worker build base and as the Redis image):
#   docker-compose --env-file deploy/offline.env up -d --build
# or by hand:
#   docker build -f deploy/service.Dockerfile --build-arg BASE=lbc-service-base:trixie --target api -t lbc-api:1 .
#   docker build -f deploy/service.Dockerfile --build-arg BASE=lbc-service-base:trixie --target worker -t lbc-worker:1 .
# The image trusts the CA certificates this host trusts (its /etc/ssl/certs bundle), so `npm ci`
# in the build reaches the npm registry the way the host's npm does, TLS-intercepting proxy included.
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
# npm's many node-* packages fail to configure inside debootstrap; apt orders them fine. No
# package may start a daemon on this host while installing (redis-server's postinst would).
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
mount -t proc proc "$rootfs/proc"
trap 'umount "$rootfs/proc" 2>/dev/null || true; rm -rf "$rootfs" "$rootfs.log"' EXIT
chroot "$rootfs" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm redis-server' >>"$rootfs.log" 2>&1 \
  || { tail -30 "$rootfs.log"; exit 1; }
umount "$rootfs/proc"
rm -f "$rootfs/usr/sbin/policy-rc.d"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"; fi
node_version=$(chroot "$rootfs" node --version)
npm_version=$(chroot "$rootfs" npm --version)
redis_version=$(chroot "$rootfs" redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')
tar -C "$rootfs" -c . | docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' - "$image" >/dev/null
echo "built $image (node $node_version, npm $npm_version, redis $redis_version)"
