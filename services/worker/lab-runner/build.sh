#!/usr/bin/env bash
# Builds lbc-lab-runner, the kernel lab's guest program, for one guest architecture and prints its
# path. Static: linked against the same pinned libbpf the client's addon links
# (client/native/scripts/libbpf.sh) plus libelf and zlib, so the guest needs nothing but the kernel.
# The trampoline probe and libbpf's log capture are the addon's own files (client/native/src).
#   services/worker/lab-runner/build.sh x86_64|aarch64
# Cached by the hash of its inputs (sources, these scripts, the compiler) under the lab directory
# ($LBC_LAB_DIR, else $XDG_CACHE_HOME/lbc-lab, else ~/.cache/lbc-lab): the binary is never committed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The client's native directory, found through the package the worker depends on (lbc-client).
native=$(cd "$here" && node -e 'process.stdout.write(require("node:path").dirname(require.resolve("lbc-client/package.json")))')/native
arch=${1:?usage: build.sh x86_64|aarch64}
case $arch in
  x86_64) cross= libbpf_arch=x64 ;;
  aarch64) cross=aarch64-linux-gnu- libbpf_arch=arm64 ;;
  *) echo "build.sh: unknown architecture $arch (x86_64, aarch64)" >&2; exit 2 ;;
esac
lab=${LBC_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lbc-lab}
shared=("$native/src/trampoline-probe.cc" "$native/src/libbpf-log.cc")
command -v "${cross}g++" >/dev/null || { echo "build.sh: ${cross}g++ is missing (Debian: apt-get install g++${cross:+-aarch64-linux-gnu})" >&2; exit 1; }
stamp=$(cat "$here"/*.cc "$here"/*.h "$here/build.sh" "${shared[@]}" "$native"/src/trampoline-probe.h "$native"/src/libbpf-log.h \
  "$native/scripts/libbpf.sh" <("${cross}g++" --version) | sha256sum | cut -c1-16)
out=$lab/runner/$arch-$stamp
if [ -x "$out/lbc-lab-runner" ]; then
  echo "$out/lbc-lab-runner"
  exit 0
fi

libbpf=$("$native/scripts/libbpf.sh" "$libbpf_arch")
libdirs=()
if [ "$arch" = aarch64 ]; then
  sysroot=$("$native/scripts/libbpf.sh" arm64-sysroot)
  libdirs=(-I"$sysroot/usr/include" -L"$sysroot/usr/lib/aarch64-linux-gnu")
fi
echo "build.sh: building lbc-lab-runner ($arch)" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"${cross}g++" -std=c++17 -O2 -Wall -Wextra -Wno-missing-field-initializers -static \
  -I"$libbpf/include" -I"$native/src" "${libdirs[@]}" \
  "$here"/*.cc "${shared[@]}" \
  "$libbpf/lib/libbpf.a" -lelf -lz -o "$work/lbc-lab-runner"
"${cross}strip" "$work/lbc-lab-runner"
mkdir -p "$out"
mv "$work/lbc-lab-runner" "$out/lbc-lab-runner.part"
mv "$out/lbc-lab-runner.part" "$out/lbc-lab-runner"
echo "$out/lbc-lab-runner"
