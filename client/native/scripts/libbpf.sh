#!/usr/bin/env bash
# Builds the pinned libbpf as a static, position-independent library for one architecture and
# prints the directory it is installed in (include/ and lib/libbpf.a). Cached: a second run with the
# same pin prints the same directory at once.
#   client/native/scripts/libbpf.sh x64|arm64
#
# Why from source: Debian's libbpf.a is not built with -fPIC and cannot go into an addon, and
# linking libbpf.so would make every target install libbpf1. The source comes from Debian's archive
# (the only archive reachable where lbc is built) through a private apt configuration: the system's
# sources are never touched. Its tarball is checked against the pin below before it is unpacked.
#
# arm64 is cross-built with Debian's aarch64-linux-gnu-gcc; libelf and zlib for arm64 (headers to
# build against, libraries to link the addon against) come from arm64 .debs unpacked into a sysroot
# beside the build (printed by `libbpf.sh arm64-sysroot`).
#
# Cache: $LBC_NATIVE_CACHE, else $XDG_CACHE_HOME/lbc-native, else ~/.cache/lbc-native.
set -euo pipefail

LIBBPF_VERSION=1.5.0
LIBBPF_SOURCE_PACKAGE=libbpf
LIBBPF_SUITE=trixie
# libbpf_1.5.0.orig.tar.gz as Debian ships it (upstream's v1.5.0 release tarball).
LIBBPF_SHA256=53492aff6dd47e4da04ef5e672d753b9743848bdb38e9d90eafbe190b7983c44
# The suite whose arm64 libelf/zlib the arm64 addon is linked against: the build host's own.
SYSROOT_SUITE=bookworm
SYSROOT_PACKAGES=(libelf1 libelf-dev zlib1g zlib1g-dev)

arch=${1:?usage: libbpf.sh x64|arm64|arm64-sysroot}
cache=${LBC_NATIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lbc-native}
top=$cache/libbpf-$LIBBPF_VERSION
mkdir -p "$top"

log() { echo "libbpf.sh: $*" >&2; }

# The Debian mirror the machine itself uses (deb822 sources first, then the one-line format).
mirror() {
  local uri
  uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1 || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list 2>/dev/null | head -1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# apt-get with a list file of our own and state under DIR; extra options follow.
private_apt() {
  local dir=$1
  shift
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  touch "$dir/status"
  apt-get -q -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=- \
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" -o APT::Sandbox::User=root "$@"
}

fetch_source() {
  local tarball=$top/libbpf_$LIBBPF_VERSION.orig.tar.gz
  if [ ! -f "$tarball" ]; then
    local apt=$top/apt-src
    mkdir -p "$apt"
    echo "deb-src $(mirror) $LIBBPF_SUITE main" >"$apt/sources.list"
    log "fetching libbpf $LIBBPF_VERSION source ($LIBBPF_SUITE)"
    private_apt "$apt" update -qq >&2
    (cd "$apt" && private_apt "$apt" source --download-only "$LIBBPF_SOURCE_PACKAGE" >"$apt/source.log" 2>&1) ||
      { cat "$apt/source.log" >&2; exit 1; }
    [ -f "$apt/libbpf_$LIBBPF_VERSION.orig.tar.gz" ] || { log "the archive has no libbpf_$LIBBPF_VERSION.orig.tar.gz"; exit 1; }
    mv "$apt/libbpf_$LIBBPF_VERSION.orig.tar.gz" "$tarball.part"
    mv "$tarball.part" "$tarball"
  fi
  local got
  got=$(sha256sum "$tarball" | cut -d' ' -f1)
  if [ "$got" != "$LIBBPF_SHA256" ]; then
    log "$tarball has sha256 $got, expected $LIBBPF_SHA256 (the pin in this script): removed"
    rm -f "$tarball"
    exit 1
  fi
  if [ ! -f "$top/src/.unpacked" ]; then
    rm -rf "$top/src"
    mkdir -p "$top/src"
    tar -xzf "$tarball" -C "$top/src" --strip-components=1
    touch "$top/src/.unpacked"
  fi
}

# arm64 libelf and zlib (headers and libraries) unpacked from the archive's .debs.
arm64_sysroot() {
  local root=$cache/sysroot-arm64-$SYSROOT_SUITE
  if [ ! -f "$root/.complete" ]; then
    local apt=$cache/apt-arm64-$SYSROOT_SUITE
    mkdir -p "$apt"
    echo "deb $(mirror) $SYSROOT_SUITE main" >"$apt/sources.list"
    log "fetching arm64 ${SYSROOT_PACKAGES[*]} ($SYSROOT_SUITE)"
    local arm=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Dir::State::status="$apt/status")
    private_apt "$apt" "${arm[@]}" update -qq >&2
    rm -rf "$apt/debs" "$root"
    mkdir -p "$apt/debs" "$root"
    (cd "$apt/debs" && private_apt "$apt" "${arm[@]}" download "${SYSROOT_PACKAGES[@]/%/:arm64}" >"$apt/download.log" 2>&1) ||
      { cat "$apt/download.log" >&2; exit 1; }
    for deb in "$apt"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
    # Absolute links (usr/lib/.../libz.so -> /lib/.../libz.so.1.2.13) would point at the build
    # host's own files: re-pointed into the sysroot, or the linker would quietly take libz.a.
    find "$root" -type l -lname '/*' | while read -r link; do ln -sfn "$root$(readlink "$link")" "$link"; done
    touch "$root/.complete"
  fi
  echo "$root"
}

build() {
  local arch=$1 out=$top/$arch
  if [ -f "$out/lib/libbpf.a" ] && [ -f "$out/.complete" ]; then
    echo "$out"
    return
  fi
  fetch_source
  local cc=gcc extra=()
  if [ "$arch" = arm64 ]; then
    cc=aarch64-linux-gnu-gcc
    command -v "$cc" >/dev/null || { log "$cc is missing (Debian: apt-get install gcc-aarch64-linux-gnu)"; exit 1; }
    local root
    root=$(arm64_sysroot)
    extra=(-I"$root/usr/include" -I"$root/usr/include/aarch64-linux-gnu")
  fi
  log "building libbpf $LIBBPF_VERSION ($arch, static, -fPIC)"
  rm -rf "$out" "$top/obj-$arch"
  # -fPIC: the archive goes into a shared object (the addon). Only the static library is built, and
  # installed with its headers; the pkg-config file is left out (nothing here reads it).
  make -s -C "$top/src/src" -j"$(nproc)" BUILD_STATIC_ONLY=1 NO_PKG_CONFIG=1 \
    OBJDIR="$top/obj-$arch" DESTDIR="$out" PREFIX= LIBDIR=/lib INCLUDEDIR=/include \
    CC="$cc" CFLAGS="-O2 -g0 -fPIC -fvisibility=hidden ${extra[*]}" \
    install_headers install >"$top/build-$arch.log" 2>&1 || { tail -30 "$top/build-$arch.log" >&2; exit 1; }
  rm -rf "$top/obj-$arch"
  touch "$out/.complete"
  echo "$out"
}

case $arch in
  x64 | arm64) build "$arch" ;;
  arm64-sysroot) arm64_sysroot ;;
  *) log "unknown architecture $arch (x64, arm64, arm64-sysroot)"; exit 2 ;;
esac
