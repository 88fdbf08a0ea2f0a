#!/bin/bash
# Runs inside the locked-down ingest container (tools from the compile image, nothing from the host).
# Turns one untrusted kernel package into raw BTF:
#   $1 = the package (read-only)   $2 = output dir (vmlinux.btf)   $3 = scratch dir   $4 = max unpacked bytes
# Speaks to the worker on stdout, one line each:
#   @progress PERCENT STAGE      @meta KEY VALUE      @error LBC_ERR_CODE message
# Only vmlinux/vmlinuz/*.btf members are ever unpacked; the container's RLIMIT_FSIZE bounds each file.
set -uo pipefail
pkg=$1 out=$2 scratch=$3 max_unpacked=$4
root=$scratch/root
mkdir -p "$root"
export TMPDIR=/tmp
# fd 3: the worker's line protocol, also from inside pipelines whose stdout carries package data.
exec 3>&1

progress() { echo "@progress $1 $2"; }
meta() { printf '@meta %s %s\n' "$1" "$(printf '%s' "$2" | tr -d '\n\r' | head -c 512)"; }
fail() { printf '@error %s %s\n' "$1" "$2"; exit 3; }
# 153 = 128 + SIGXFSZ: a process wrote past the container's file size limit (RLIMIT_FSIZE).
fail_if_too_big() {
  local st
  for st in "$@"; do
    [ "$st" = 153 ] && fail LBC_ERR_INGEST_TOO_LARGE "a file unpacked from the package is over the ingest file size limit"
  done
  return 0
}
human() { awk -v b="$1" 'BEGIN { printf "%.1f GB", b / 1e9 }'; }

# Hex of `count` bytes at `offset` of a file, no spaces.
hexat() { od -An -v -tx1 -j "$2" -N "$3" "$1" 2>/dev/null | tr -d ' \n'; }

claim_check() { # what bytes
  case $2 in ''|*[!0-9]*) return 0 ;; esac
  if [ "$2" -gt "$max_unpacked" ]; then
    fail LBC_ERR_INGEST_TOO_LARGE "the $1 claims $(human "$2") unpacked, over the $(human "$max_unpacked") limit"
  fi
}

# ---- ELF helpers -------------------------------------------------------------------------------
is_elf() { [ "$(hexat "$1" 0 4)" = 7f454c46 ]; }
# grep -c reads everything: with grep -q, readelf could die of SIGPIPE and pipefail would say "no".
has_section() { readelf -S -W "$1" 2>/dev/null | grep -c "\] $2 " >/dev/null; }

# vmlinuz (bzImage, EFI zboot, raw gzip...): find a compressed stream whose content is a kernel
# carrying BTF: an ELF vmlinux, or an uncompressed image with the BTF blob inside (arm64 zboot).
decompress_kernel() { # image -> $scratch/vmlinux.elf, or $out/vmlinux.btf
  local image=$1 try=$scratch/vmlinux.try
  local -a specs=('\x1f\x8b\x08:gzip -dc' '\xfd\x37\x7a\x58\x5a\x00:xz -dc --single-stream' '\x28\xb5\x2f\xfd:zstd -dcq'
    '\x02\x21\x4c\x18:lz4 -dc' 'BZh9:bzip2 -dc')
  local spec magic tool off
  for spec in "${specs[@]}"; do
    magic=${spec%%:*} tool=${spec#*:}
    for off in $(LC_ALL=C grep -obUaP "$magic" "$image" 2>/dev/null | head -20 | cut -d: -f1); do
      tail -c +$((off + 1)) "$image" | $tool >"$try" 2>/dev/null
      fail_if_too_big "${PIPESTATUS[@]}"
      if is_elf "$try"; then mv "$try" "$scratch/vmlinux.elf"; return 0; fi
      if [ -s "$try" ] && embedded_btf "$try" "$out/vmlinux.btf"; then rm -f "$try"; return 0; fi
    done
  done
  rm -f "$try"
  return 1
}

# The BTF blob an uncompressed, non-ELF kernel image carries (arm64 Image, a raw x86 image): the
# kernel links .BTF into its read-only data, so the blob is there byte for byte. Candidates are
# BTF headers (magic 0xeb9f, version 1, 24-byte header) whose types come first and whose strings
# end inside the file; the largest one bpftool parses wins (a stray match is small or garbage).
embedded_btf() { # image dest -> status 0 when found
  local image=$1 dest=$2 total off type_off type_len str_off str_len size candidate=$scratch/embedded.btf
  total=$(stat -c %s "$image")
  local -a found=()
  for off in $(LC_ALL=C grep -obUaP '\x9f\xeb\x01\x00\x18\x00\x00\x00' "$image" 2>/dev/null | head -64 | cut -d: -f1); do
    read -r type_off type_len str_off str_len < <(od -An -v -tu4 -j $((off + 8)) -N 16 "$image")
    [ "${type_off:-1}" -eq 0 ] && [ "${str_off:-0}" -ge "${type_len:-1}" ] && [ "${str_len:-0}" -gt 0 ] || continue
    size=$((24 + str_off + str_len))
    [ $((off + size)) -le "$total" ] || continue
    found+=("$size $off")
  done
  [ ${#found[@]} -gt 0 ] || return 1
  while read -r size off; do
    tail -c +$((off + 1)) "$image" | head -c "$size" >"$candidate"
    if bpftool btf dump file "$candidate" >/dev/null 2>&1; then
      mv "$candidate" "$dest"
      meta btf-offset "$off"
      return 0
    fi
  done < <(printf '%s\n' "${found[@]}" | sort -rn)
  rm -f "$candidate"
  return 1
}

# What the image's own header says it was built for: ELF e_machine, the arm64 Image magic.
image_arch() { # file
  case $(hexat "$1" 0 4):$(hexat "$1" 18 2) in
    7f454c46:3e00) echo x86_64; return ;;
    7f454c46:b700) echo aarch64; return ;;
  esac
  [ "$(hexat "$1" 56 4)" = 41524d64 ] && echo aarch64
}
note_image_arch() { # file
  local arch
  arch=$(image_arch "$1")
  [ -z "$arch" ] || meta image-arch "$arch"
}

# One ELF vmlinux -> $out/vmlinux.btf: its .BTF section, else BTF encoded from its DWARF.
btf_from_elf() {
  local elf=$1
  if has_section "$elf" .BTF; then
    meta btf-source section
    # Copied by offset and size: objcopy would write a whole copy of a vmlinux that may be huge.
    local off size
    read -r off size < <(readelf -S -W "$elf" 2>/dev/null | sed -n 's/^ *\[ *[0-9]*\] //p' | awk '$1 == ".BTF" { print $4, $5; exit }')
    [ -n "${off:-}" ] && [ -n "${size:-}" ] || fail LBC_ERR_INGEST_CORRUPT "the .BTF section of $2 could not be located"
    tail -c +$((16#$off + 1)) "$elf" | head -c $((16#$size)) >"$out/vmlinux.btf"
    [ "$(stat -c %s "$out/vmlinux.btf")" -eq $((16#$size)) ] || fail LBC_ERR_INGEST_CORRUPT "the .BTF section of $2 runs past the end of the file"
    return 0
  fi
  if has_section "$elf" .debug_info; then
    meta btf-source dwarf
    progress 60 encoding
    local log=$scratch/pahole.log
    if ! pahole --btf_encode_detached="$out/vmlinux.btf" "$elf" >"$log" 2>&1 || [ ! -s "$out/vmlinux.btf" ]; then
      [ -s "$out/vmlinux.btf" ] || fail LBC_ERR_INGEST_NO_TYPES "$2 has DWARF but pahole found no types in it: $(tail -c 300 "$log" | tr '\n' ' ')"
    fi
    # Reduced DWARF (-g1) still yields a few base types, never a struct.
    # (|| true: grep -q stops reading early, and bpftool's SIGPIPE must not count as a failure.)
    if ! { bpftool btf dump file "$out/vmlinux.btf" 2>/dev/null || true; } | grep -q "^\[[0-9]*\] STRUCT "; then
      fail LBC_ERR_INGEST_NO_TYPES "$2 has DWARF (.debug_info) but no type information (built with -g1?); use the full debuginfo package"
    fi
    return 0
  fi
  fail LBC_ERR_INGEST_NO_BTF "$2 has neither a .BTF section nor DWARF (.debug_info); ingest the kernel's -dbg/debuginfo package instead"
}

# ---- package formats -----------------------------------------------------------------------------
# The package on stdout, with progress (20-50%) from how much of it has been read: dd reports once a second.
read_package() {
  local total
  total=$(stat -c %s "$pkg")
  dd if="$pkg" bs=1M status=progress 2> >(tr '\r' '\n' | awk -v t="$total" '
    / bytes / { p = 20 + int(30 * $1 / t); if (p > last) { print "@progress " p " unpacking"; fflush(); last = p } }' >&3)
}

from_rpm() {
  progress 10 metadata
  local q
  q=$(rpm -qp --dbpath /tmp/rpmdb --nosignature --nodigest \
    --qf '%{NAME}\n%{VERSION}\n%{RELEASE}\n%{ARCH}\n%{VENDOR}\n%{DISTRIBUTION}\n%{LONGSIZE}\n%{PAYLOADCOMPRESSOR}\n' "$pkg" 2>"$scratch/rpm.err") ||
    fail LBC_ERR_INGEST_CORRUPT "rpm cannot read the package header: $(head -c 300 "$scratch/rpm.err" | tr '\n' ' ')"
  local -a f
  mapfile -t f <<<"$q"
  meta format rpm
  meta name "${f[0]}"; meta version "${f[1]}"; meta release "${f[2]}"; meta arch "${f[3]}"
  meta vendor "${f[4]}"; meta distribution "${f[5]}"; meta compressor "${f[7]}"
  claim_check "package header" "${f[6]}"
  progress 20 unpacking
  read_package | rpm2cpio 2>"$scratch/unpack.err" | (cd "$root" && cpio -idm --quiet --no-absolute-filenames '*vmlinu[xz]*' '*/vmlinu[xz]' 2>>"$scratch/unpack.err")
  local st=("${PIPESTATUS[@]}")
  fail_if_too_big "${st[@]}"
  [ "${st[1]}" -eq 0 ] && [ "${st[2]}" -eq 0 ] ||
    fail LBC_ERR_INGEST_CORRUPT "the package payload is damaged or truncated: $(tail -c 300 "$scratch/unpack.err" | tr '\n' ' ')"
}

# ar archive members: refuse sizes that run past the end of the file (truncation or a lying header).
check_ar() {
  local total off=8 hdr size name
  total=$(stat -c %s "$pkg")
  while [ "$off" -lt "$total" ]; do
    # The header ends in a newline, which $(...) would strip: keep it with a sentinel.
    hdr=$(tail -c +$((off + 1)) "$pkg" | head -c 60 | tr -d '\0'; echo .)
    hdr=${hdr%.}
    [ ${#hdr} -eq 60 ] || fail LBC_ERR_INGEST_CORRUPT "the .deb is truncated inside a member header at byte $off"
    name=$(printf '%s' "${hdr:0:16}" | tr -d ' ')
    size=$(printf '%s' "${hdr:48:10}" | tr -d ' ')
    case $size in ''|*[!0-9]*) fail LBC_ERR_INGEST_CORRUPT "member header at byte $off has a bad size field" ;; esac
    claim_check "member $name header" "$size"
    [ $((off + 60 + size)) -le "$total" ] ||
      fail LBC_ERR_INGEST_CORRUPT "the .deb is truncated: member $name claims $size bytes, only $((total - off - 60)) remain"
    off=$((off + 60 + size + size % 2))
  done
}

from_deb() {
  progress 10 metadata
  check_ar
  local f
  f=$(dpkg-deb -f "$pkg" Package Version Architecture Maintainer Source Installed-Size 2>"$scratch/deb.err") ||
    fail LBC_ERR_INGEST_CORRUPT "dpkg-deb cannot read the control file: $(head -c 300 "$scratch/deb.err" | tr '\n' ' ')"
  meta format deb
  meta name "$(sed -n 's/^Package: //p' <<<"$f")"
  meta version "$(sed -n 's/^Version: //p' <<<"$f")"
  meta arch "$(sed -n 's/^Architecture: //p' <<<"$f")"
  meta maintainer "$(sed -n 's/^Maintainer: //p' <<<"$f")"
  meta source "$(sed -n 's/^Source: //p' <<<"$f")"
  local kib
  kib=$(sed -n 's/^Installed-Size: //p' <<<"$f")
  case $kib in ''|*[!0-9]*) ;; *) claim_check "control file (Installed-Size)" $((kib * 1024)) ;; esac
  progress 20 unpacking
  # Debian and Ubuntu keep the image (or its debug copy) in [/usr/lib/debug]/boot, early in the data
  # archive: tar stops at the first one (--occurrence) instead of decompressing every module after
  # it, and a pipe cut short that way is no damage. Other layouts: a full pass.
  unpack_deb --occurrence=1 '*/boot/vmlinu[xz]-*'
  if [ -n "$(find "$root" -type f -print -quit)" ]; then
    [ "${st[2]}" -eq 0 ] || fail LBC_ERR_INGEST_CORRUPT "the kernel image in the package is damaged or truncated: $(tail -c 300 "$scratch/unpack.err" | tr '\n' ' ')"
    return 0
  fi
  [ "${st[1]}" -eq 0 ] || fail LBC_ERR_INGEST_CORRUPT "the package data is damaged or truncated: $(tail -c 300 "$scratch/unpack.err" | tr '\n' ' ')"
  unpack_deb '*vmlinu[xz]*'
  [ "${st[1]}" -eq 0 ] || fail LBC_ERR_INGEST_CORRUPT "the package data is damaged or truncated: $(tail -c 300 "$scratch/unpack.err" | tr '\n' ' ')"
}

# Unpacks the members matching the tar arguments; statuses (dd, dpkg-deb, tar) left in st.
unpack_deb() {
  read_package | dpkg-deb --fsys-tarfile /dev/stdin 2>"$scratch/unpack.err" |
    tar -x -C "$root" --no-same-owner --no-same-permissions --wildcards "$@" 2>>"$scratch/unpack.err"
  st=("${PIPESTATUS[@]}")
  fail_if_too_big "${st[@]}"
}

# Compressed single files: a BTFHub <release>.btf.tar.xz, or a compressed raw BTF / vmlinux.
from_compressed() { # tool
  progress 20 unpacking
  local inner=$scratch/inner
  $1 <"$pkg" >"$inner" 2>"$scratch/unpack.err"
  local st=$?
  fail_if_too_big "$st"
  [ "$st" -eq 0 ] ||
    fail LBC_ERR_INGEST_CORRUPT "the compressed file is damaged or truncated: $(tail -c 300 "$scratch/unpack.err" | tr '\n' ' ')"
  if [ "$(hexat "$inner" 257 5)" = 7573746172 ]; then
    meta format btf-tar
    local member
    # awk reads the whole listing (grep -m1 would leave tar to die of SIGPIPE).
    member=$(tar -tf "$inner" 2>/dev/null | awk '/(^|\/)[^\/]+\.btf$/ && !found { print; found = 1 }')
    [ -n "$member" ] || fail LBC_ERR_INGEST_NO_VMLINUX "the archive holds no <release>.btf file"
    meta path "$member"
    tar -x -C "$root" --no-same-owner --no-same-permissions -f "$inner" "$member" 2>/dev/null ||
      fail LBC_ERR_INGEST_CORRUPT "could not unpack $member"
    rm -f "$inner"
    [ -f "$root/$member" ] && [ ! -L "$root/$member" ] || fail LBC_ERR_INGEST_CORRUPT "$member is not a regular file"
    [ "$(hexat "$root/$member" 0 2)" = 9feb ] || fail LBC_ERR_INGEST_FORMAT "$member is not BTF (bad magic)"
    meta btf-source raw
    mv "$root/$member" "$out/vmlinux.btf"
    return 0
  fi
  mv "$inner" "$scratch/single"
  from_single "$scratch/single"
}

from_single() { # a raw BTF, an ELF vmlinux or an arm64 Image
  case $(hexat "$1" 0 4) in
    9feb*) meta format btf; meta btf-source raw; cp "$1" "$out/vmlinux.btf" ;;
    7f454c46) meta format vmlinux; note_image_arch "$1"; btf_from_elf "$1" vmlinux ;;
    *)
      [ "$(image_arch "$1")" = aarch64 ] ||
        fail LBC_ERR_INGEST_FORMAT "the file is neither a package (RPM, DEB), a .btf.tar.xz, raw BTF, an ELF vmlinux nor an arm64 Image"
      meta format image
      meta image-arch aarch64
      progress 50 converting
      embedded_btf "$1" "$out/vmlinux.btf" ||
        fail LBC_ERR_INGEST_NO_BTF "the arm64 Image carries no BTF blob (a kernel built without CONFIG_DEBUG_INFO_BTF); ingest its -dbg/debuginfo package instead"
      meta btf-source image
      keep_boot_image "$1" Image
      ;;
  esac
}

# The image a VM boots (vmlinuz, an arm64 Image) goes beside the BTF: the kernel set is bootable.
keep_boot_image() { # file path-in-package
  cp "$1" "$out/boot-image" || fail LBC_ERR_INGEST_TOO_LARGE "the boot image could not be kept"
  meta boot-image "$2"
}

# Picks the kernel image among what was unpacked: a vmlinux (ELF) before a vmlinuz, debug copies first.
pick_and_convert() {
  local list=$scratch/candidates
  (cd "$root" && find . -type f \( -name 'vmlinux*' -o -name 'vmlinuz*' \) ! -name '*.ko*' | sed 's|^\./|/|') >"$list"
  [ -s "$list" ] || fail LBC_ERR_INGEST_NO_VMLINUX "the package contains no vmlinux or vmlinuz (is it a kernel image, -dbg or debuginfo package?)"
  local best
  best=$(awk '{ s = 5; if ($0 ~ /vmlinux[^\/]*$/) s = 1; if ($0 ~ /vmlinuz/) s = 3; if ($0 ~ /\/debug\//) s -= 1; print s "\t" $0 }' "$list" | sort -n | head -1 | cut -f2)
  meta path "$best"
  progress 50 converting
  local file=$root$best
  note_image_arch "$file"
  if is_elf "$file"; then
    btf_from_elf "$file" "$best"
  else
    # A vmlinuz is the boot image: kept before anything is unpacked from it.
    case $best in */vmlinuz*) keep_boot_image "$file" "$best" ;; esac
    if embedded_btf "$file" "$out/vmlinux.btf"; then
      meta btf-source image
    elif decompress_kernel "$file"; then
      if [ -s "$out/vmlinux.btf" ]; then
        meta btf-source image
      else
        btf_from_elf "$scratch/vmlinux.elf" "$best"
      fi
    else
      fail LBC_ERR_INGEST_NO_BTF "$best carries no BTF: it is no ELF vmlinux, holds no BTF blob, and no gzip/xz/zstd/lz4/bzip2 stream in it decompresses to a kernel that does (a kernel built without CONFIG_DEBUG_INFO_BTF?); ingest the kernel's -dbg/debuginfo package instead"
    fi
    rm -f "$file"
  fi
}

progress 5 detecting
[ -s "$pkg" ] || fail LBC_ERR_INGEST_FORMAT "the file is empty"
magic=$(hexat "$pkg" 0 8)
case $magic in
  edabeedb*) from_rpm; pick_and_convert ;;
  213c617263683e0a) from_deb; pick_and_convert ;;
  fd377a585a00*) from_compressed 'xz -dc' ;;
  1f8b*) from_compressed 'gzip -dc' ;;
  28b52ffd*) from_compressed 'zstd -dcq' ;;
  *) from_single "$pkg" ;;
esac
[ -s "$out/vmlinux.btf" ] || fail LBC_ERR_INGEST_NO_BTF "no BTF was produced"
progress 90 done
echo "@done"
