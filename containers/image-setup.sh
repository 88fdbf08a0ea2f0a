#!/usr/bin/env bash
# Shared by the Dockerfile and the offline recipe: trims the rootfs to what a compile needs.
# $1 = rootfs root ("/" inside a Dockerfile RUN).
set -euo pipefail
root=${1:-/}
# Nothing a program could read through #include or .incbin should carry information:
# drop apt state, docs and logs; keep passwd/group minimal.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* \
  "$root"/usr/share/man/* "$root"/var/log/* "$root"/root/.[!.]* 2>/dev/null || true
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
mkdir -p "$root/job" "$root/k"
chmod 0755 "$root/job" "$root/k"
