#!/usr/bin/env bash
# Sets up the kernel lab (real Debian kernels booted under QEMU TCG, see services/core/src/lab/). Idempotent:
#  - Debian packages: qemu-system-x86, qemu-system-arm, busybox-static (the guests' userland), and the
#    decompressors and objcopy that take the BTF out of a vmlinuz
#  - each kernel of services/core/src/lab/lab-kernels.txt, downloaded once into the lab directory
#    (LBC_LAB_DIR, default ~/.cache/lbc-lab): kernels/<id>/{vmlinuz,btf,release,arch,package}
#  - for arm64 guests, Debian's arm64 busybox-static: userland/aarch64/busybox
# Suites the machine's own sources do not list are read through a private apt configuration inside
# the lab directory; the system's sources are never changed. A kernel already there is not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(qemu-system-x86 qemu-system-arm busybox-static xz-utils zstd lz4 binutils)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "lab-setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

lab=${LBC_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lbc-lab}
manifest=services/core/src/lab/lab-kernels.txt
mkdir -p "$lab/kernels"

needed=()
while read -r id arch suites_and_pattern; do
  case $id in '#'* | '') continue ;; esac
  [ -s "$lab/kernels/$id/vmlinuz" ] && [ -s "$lab/kernels/$id/btf" ] && [ -s "$lab/kernels/$id/release" ] && continue
  needed+=("$id")
done <"$manifest"
arm64_busybox=$lab/userland/aarch64/busybox
need_busybox=no
if grep -qE '^[^#]\S*\s+aarch64\s' "$manifest" && [ ! -s "$arm64_busybox" ]; then need_busybox=yes; fi
if [ ${#needed[@]} -eq 0 ] && [ $need_busybox = no ]; then
  echo "lab-setup: every lab kernel is in $lab"
  exit 0
fi
echo "lab-setup: fetching ${needed[*]} into $lab"

# The private apt configurations, one per Debian architecture: every suite the manifest names, from
# the mirror the system uses. apt_opts_for ARCH sets apt_opts (updating its lists once per run).
mirror=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
declare -A apt_updated=()
apt_opts_for() {
  local deb_arch=$1 apt_dir=$lab/apt/$1 suite
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  : >"$apt_dir/status"
  {
    for suite in $(awk '!/^#/ && NF { for (i = 3; i < NF; i++) print $i }' "$manifest" | sort -u); do
      case $suite in
        *-security) echo "deb [signed-by=$keyring] ${mirror}-security $suite main" ;;
        *) echo "deb [signed-by=$keyring] $mirror $suite main" ;;
      esac
    done
  } >"$apt_dir/sources.list"
  apt_opts=(-o APT::Sandbox::User=root -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache" -o "Dir::State::status=$apt_dir/status" -o "APT::Architecture=$deb_arch" -o "APT::Architectures::=$deb_arch")
  if [ -z "${apt_updated[$deb_arch]:-}" ]; then
    apt-get "${apt_opts[@]}" update -qq
    apt_updated[$deb_arch]=1
  fi
}
deb_arch_of() { case $1 in aarch64) echo arm64 ;; *) echo amd64 ;; esac; }

# The arm64 guests' userland: busybox-static from the newest suite the manifest names.
if [ $need_busybox = yes ]; then
  apt_opts_for arm64
  work=$(mktemp -d "$lab/.busybox.XXXXXX")
  (cd "$work" && apt-get "${apt_opts[@]}" download -qq busybox-static:arm64)
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/root"
  mkdir -p "$(dirname "$arm64_busybox")"
  # /bin/busybox before trixie, /usr/bin/busybox since (merged /usr)
  binary=$(find "$work/root" -path "*bin/busybox" -type f | head -1)
  [ -n "$binary" ] || { echo "lab-setup: no busybox in busybox-static:arm64"; exit 1; }
  cp "$binary" "$arm64_busybox.tmp"
  mv "$arm64_busybox.tmp" "$arm64_busybox"
  rm -rf "$work"
  echo "lab-setup: arm64 busybox in $arm64_busybox"
fi

# vmlinuz → the raw .BTF of the vmlinux inside it (what the booted kernel shows as /sys/kernel/btf/vmlinux).
extract_btf() {
  local image=$1 out=$2 work=$3 spec magic tool off
  local -a specs=('\x1f\x8b\x08:gzip -dc' '\xfd\x37\x7a\x58\x5a\x00:xz -dc --single-stream' '\x28\xb5\x2f\xfd:zstd -dcq' '\x02\x21\x4c\x18:lz4 -dc')
  for spec in "${specs[@]}"; do
    magic=${spec%%:*} tool=${spec#*:}
    for off in $(LC_ALL=C grep -obUaP "$magic" "$image" 2>/dev/null | head -20 | cut -d: -f1); do
      tail -c +$((off + 1)) "$image" | $tool >"$work/vmlinux" 2>/dev/null || true
      if [ "$(head -c 4 "$work/vmlinux" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] &&
        objcopy --dump-section ".BTF=$out" "$work/vmlinux" "$work/vmlinux.stripped" 2>/dev/null; then
        rm -f "$work/vmlinux" "$work/vmlinux.stripped"
        return 0
      fi
    done
  done
  rm -f "$work/vmlinux" "$work/vmlinux.stripped"
  return 1
}

# An uncompressed image (Debian's arm64 vmlinuz is a plain Image) holds .BTF byte for byte in its
# read-only data: the largest well-formed BTF header (magic 0xeb9f, version 1, 24-byte header, types
# first, strings ending inside the file) is the blob.
embedded_btf() {
  local image=$1 out=$2 total off type_off type_len str_off str_len size best_size=0 best_off=
  total=$(stat -c %s "$image")
  for off in $(LC_ALL=C grep -obUaP '\x9f\xeb\x01\x00\x18\x00\x00\x00' "$image" 2>/dev/null | head -64 | cut -d: -f1); do
    read -r type_off type_len str_off str_len < <(od -An -v -tu4 -j $((off + 8)) -N 16 "$image")
    [ "${type_off:-1}" -eq 0 ] && [ "${str_off:-0}" -ge "${type_len:-1}" ] && [ "${str_len:-0}" -gt 0 ] || continue
    size=$((24 + str_off + str_len))
    [ $((off + size)) -le "$total" ] && [ "$size" -gt "$best_size" ] || continue
    best_size=$size best_off=$off
  done
  [ -n "$best_off" ] || return 1
  dd if="$image" of="$out" iflag=skip_bytes,count_bytes skip="$best_off" count="$best_size" status=none
  [ "$(stat -c %s "$out")" -eq "$best_size" ]
}

for id in ${needed[@]+"${needed[@]}"}; do
  read -r _ arch rest < <(awk -v id="$id" '$1 == id' "$manifest")
  apt_opts_for "$(deb_arch_of "$arch")"
  pattern=${rest##* }
  package=$(apt-cache "${apt_opts[@]}" search --names-only "$pattern" | cut -d' ' -f1 | sort -V | tail -1)
  [ -n "$package" ] || { echo "lab-setup: no package matches $pattern in ${rest% *}"; exit 1; }
  work=$(mktemp -d "$lab/kernels/.$id.XXXXXX")
  (cd "$work" && apt-get "${apt_opts[@]}" download -qq "$package")
  deb=$(ls "$work"/*.deb)
  mkdir -p "$work/root"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/root" --wildcards './boot/vmlinuz-*'
  cp "$work"/root/boot/vmlinuz-* "$work/vmlinuz"
  extract_btf "$work/vmlinuz" "$work/btf" "$work" || embedded_btf "$work/vmlinuz" "$work/btf" || { echo "lab-setup: no BTF found in $package's vmlinuz"; exit 1; }
  echo "${package#linux-image-}" >"$work/release"
  echo "$arch" >"$work/arch"
  basename "$deb" >"$work/package"
  mkdir -p "$work/deb" && mv "$deb" "$work/deb/"
  rm -rf "$work/root"
  rm -rf "$lab/kernels/$id"
  mv "$work" "$lab/kernels/$id"
  echo "lab-setup: $id = $package ($(du -h "$lab/kernels/$id/vmlinuz" | cut -f1) vmlinuz, $(du -h "$lab/kernels/$id/btf" | cut -f1) BTF)"
done
