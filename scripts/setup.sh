#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine (as root) to run lbc and its tests. Idempotent.
#  - Debian packages: clang/llvm (host fixtures and baselines), libbpf-dev (the client's native shim),
#    bpftool, redis-server, docker.io, docker-compose (Compose v1: docker-compose.yml's test),
#    debootstrap (offline compile and service base images), bpftrace/hyperfine (bench),
#    chromium (dashboard tests, driven by playwright-core), rpm/dpkg-dev/dwarves/zstd/xz-utils (the kernel
#    packages the ingestion tests build: rpmbuild, dpkg-deb, pahole)
#  - starts dockerd when no engine answers; mounts tracefs and bpffs
#  - npm ci (builds better-sqlite3), the client's JavaScript (client/dist) and its prebuilt addons
#    (client/prebuilds: libbpf 1.5 from Debian's source package, built static; x64 and, cross-built
#    with gcc-aarch64-linux-gnu, arm64), cached in ~/.cache/lbc-native; file, binutils and
#    debootstrap for the packaged client's bare-target test (test/client-package.test.ts)
#  - builds the compile image, the lab's QEMU image (lbc-lab:1) and the api/worker base image
#    (deploy/build-service-base.sh, which docker-compose.yml uses offline through deploy/offline.env)
#    when missing
#  - sets up the kernel lab (scripts/lab-setup.sh: QEMU, busybox-static, the Debian lab kernels, cached)
#    and builds its guest runner (services/worker/lab-runner/build.sh, static, x86_64 and aarch64)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(clang-16 llvm-16 libbpf-dev libelf-dev zlib1g-dev bpftool dwarves redis-server docker.io docker-compose debootstrap
  bpftrace hyperfine iproute2 ca-certificates chromium
  qemu-system-arm
  rpm dpkg-dev zstd xz-utils lz4 iputils-ping systemtap-sdt-dev
  gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user file binutils)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "setup: starting dockerd"
  (dockerd >/var/log/lbc-dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start, see /var/log/lbc-dockerd.log"; tail -20 /var/log/lbc-dockerd.log; exit 1; }
fi

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi
# A checkout installed before the client shipped as built JavaScript has no client/dist yet.
[ -f client/dist/cli.js ] || npm run build -w lbc-client
# The addon the client loads when no development build (client/native/build) is there, and the
# ones `npm pack` ships. Rebuilt only when its inputs changed.
bash client/native/scripts/prebuild.sh

bash containers/build-offline.sh
bash deploy/build-service-base.sh
# QEMU's image for the verify guests' sandbox (lbc-lab:1), built the same way.
bash containers/build-lab-image.sh

bash scripts/lab-setup.sh
# The verify guests' runner (static, the pinned libbpf), for both guest architectures; cached by its inputs.
for arch in x86_64 aarch64; do bash services/worker/lab-runner/build.sh "$arch" >/dev/null; done
