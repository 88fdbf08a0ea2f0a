#!/usr/bin/env bash
# Builds the kernel lab's guest image without a registry, as build-offline.sh builds the compile
# image: debootstrap a Debian bookworm rootfs holding QEMU (x86_64 and aarch64 system emulators, TCG
# only: no device access is needed) from the machine's own Debian mirror, trim it, `docker import`
# it. The worker runs each verify guest's QEMU in a single-use hardened container of this image
# (services/worker/src/verify/guest-sandbox.ts). Idempotent: exits early if the tag exists
# (LBC_IMAGE_REBUILD=1 forces a rebuild). containers/Dockerfile.lab builds the same image where a
# registry is reachable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=${LBC_LAB_IMAGE:-lbc-lab:1}
if [ -z "${LBC_IMAGE_REBUILD:-}" ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "lab image $image already present"; exit 0
fi
mirror=${LBC_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
rootfs=$(mktemp -d /var/tmp/lbc-lab-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap bookworm with QEMU from $mirror (about a minute)"
debootstrap --variant=minbase --include=qemu-system-x86,qemu-system-arm \
  bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -30 "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
bash "$here/image-setup.sh" "$rootfs"
mkdir -p "$rootfs/in"
qemu_version=$(chroot "$rootfs" qemu-system-x86_64 --version | head -1)
tar -C "$rootfs" -c . | docker import \
  --change 'USER 65534:65534' --change 'WORKDIR /tmp' --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL lbc.qemu.version=\"$qemu_version\"" --change 'CMD ["qemu-system-x86_64","--version"]' \
  - "$image" >/dev/null
echo "built $image ($qemu_version)"
