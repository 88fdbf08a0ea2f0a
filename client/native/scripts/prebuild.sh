#!/usr/bin/env bash
# Builds the prebuilt addons the package ships, in node-gyp-build's layout:
#   client/prebuilds/linux-x64/lbc_native.napi.glibc.node
#   client/prebuilds/linux-arm64/lbc_native.napi.glibc.node
# Each links the pinned libbpf statically (scripts/libbpf.sh) with its symbols hidden, so a target
# needs only glibc, libelf1 and zlib1g. One N-API binary serves every node >= 20.
#   client/native/scripts/prebuild.sh [x64] [arm64]     (both by default)
# Cached: an addon whose inputs (sources, binding.gyp, these scripts, the compiler) are unchanged
# is not rebuilt. The build runs in a copy of native/ under the cache, so native/build (the
# development build, `npx node-gyp rebuild`) is left alone.
set -euo pipefail

native=$(cd "$(dirname "$0")/.." && pwd)
client=$(dirname "$native")
cache=${LBC_NATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lbc-native}
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(x64 arm64)

log() { echo "prebuild.sh: $*" >&2; }

# node-gyp from the repository's devDependencies (it is not a dependency of the package).
gyp=$(cd "$client" && node -p "require.resolve('node-gyp/bin/node-gyp.js')")
addon_api=$(cd "$client" && node -p "require('path').dirname(require.resolve('node-addon-api/package.json'))")
# Node's headers: those installed beside this node when there are (npm's nodedir setting), as the
# machine has no route to nodejs.org.
nodedir=${npm_config_nodedir:-}
if [ -z "$nodedir" ]; then
  prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  [ -f "$prefix/include/node/node_api.h" ] && nodedir=$prefix
fi

for arch in "${archs[@]}"; do
  case $arch in
    x64) cross= ;;
    arm64) cross=aarch64-linux-gnu- ;;
    *) log "unknown architecture $arch (x64, arm64)"; exit 2 ;;
  esac
  command -v "${cross}g++" >/dev/null || { log "${cross}g++ is missing (Debian: apt-get install g++${cross:+-aarch64-linux-gnu})"; exit 1; }
  out=$client/prebuilds/linux-$arch
  stamp=$(cat "$native/binding.gyp" "$native"/src/* "$native"/scripts/*.sh <("${cross}g++" --version) <(node -p 'process.versions.napi') | sha256sum | cut -c1-16)
  if [ -f "$out/lbc_native.napi.glibc.node" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
    continue
  fi
  libbpf=$("$native/scripts/libbpf.sh" "$arch")
  defines=(-Dlibbpf_static="$libbpf")
  if [ "$arch" = arm64 ]; then
    sysroot=$("$native/scripts/libbpf.sh" arm64-sysroot)
    defines+=(-Dsysroot_libdir="$sysroot/usr/lib/aarch64-linux-gnu")
  fi
  work=$cache/addon-$arch
  rm -rf "$work"
  mkdir -p "$work"
  cp -r "$native/binding.gyp" "$native/src" "$work/"
  log "building linux-$arch"
  # binding.gyp asks node for node-addon-api's targets: NODE_PATH lets it find the repository's.
  (cd "$work" && NODE_PATH=$(dirname "$addon_api") CC=${cross}gcc CXX=${cross}g++ LINK=${cross}g++ \
    node "$gyp" rebuild --arch="$arch" ${nodedir:+--nodedir="$nodedir"} -- "${defines[@]}" >"$work/build.log" 2>&1) ||
    { tail -30 "$work/build.log" >&2; exit 1; }
  mkdir -p "$out"
  "${cross}strip" --strip-unneeded -o "$out/lbc_native.napi.glibc.node" "$work/build/Release/lbc_native.node"
  echo "$stamp" >"$out/.stamp"
  rm -rf "$work"
done
