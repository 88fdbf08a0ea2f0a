#!/usr/bin/env bash
# Builds the compile image without a registry: debootstrap a Debian trixie rootfs from the
# machine's own Debian mirror, add the lbc user-facing files, and `docker import` it.
# Produces the same image as containers/Dockerfile. Idempotent: exits early if the tag exists
# (set LBC_IMAGE_REBUILD=1 to force).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${LBC_IMAGE:-lbc-compile:trixie-2}
if [ -z "${LBC_IMAGE_REBUILD:-}" ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "compile image $image already present"; exit 0
fi
mirror=${LBC_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
rootfs=$(mktemp -d /var/tmp/lbc-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
# Kernel package ingestion (services/worker/src/ingest) unpacks RPMs/DEBs and runs pahole in this image too.
ingest_tools=dwarves,rpm2cpio,cpio,rpm,xz-utils,zstd,lz4,bzip2
echo "debootstrap trixie from $mirror (about a minute)"
debootstrap --variant=minbase --include=clang-19,llvm-19,libbpf-dev,linux-libc-dev,bpftool,$ingest_tools \
  trixie "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -30 "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
bash "$here/image-setup.sh" "$rootfs"
clang_version=$(chroot "$rootfs" clang-19 --version | head -1)
tar -C "$rootfs" -c . | docker import \
  --change 'USER 65534:65534' --change 'WORKDIR /job' --change 'ENV PATH=/usr/lib/llvm-19/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL lbc.clang.version=\"$clang_version\"" --change 'CMD ["sleep","infinity"]' \
  - "$image" >/dev/null
echo "built $image ($clang_version)"
