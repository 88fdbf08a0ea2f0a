/**
 * The lab's guest userland: busybox-static, the host's `node` with its libraries, and an /init that
 * mounts what BPF needs, runs /lab/run and powers the guest off. Built once per host (node and
 * busybox are keyed by path, size and mtime) into the lab directory; each boot adds its own small
 * archive holding /lab/run and its files (concatenated initramfs archives unpack in order).
 * An arm64 guest cannot run the host's binaries: it gets Debian's arm64 busybox-static (fetched by
 * lab-setup.sh) and an arm64 node from a root directory the caller names (node and its libraries).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LbcError, type Arch } from '@lbc/contract';
import { GuestRoot } from './guest-root.ts';
import { LAB_SETUP_COMMAND, resolveLabDir } from './lab-kernels.ts';
import { GUEST_MARKER } from './guest-console.ts';

export const BUSYBOX = '/bin/busybox';

/**
 * The guest's PID 1. The console markers (guest-console.ts) frame what the run prints; the exit
 * marker carries /lab/run's status. `poweroff -f` ends QEMU at once (-no-reboot; panic=-1 does the
 * same if init dies).
 */
export const GUEST_INIT = `#!/bin/sh
export PATH=/usr/bin:/usr/sbin:/bin:/sbin HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf
echo "${GUEST_MARKER.init} $(cut -d' ' -f1 /proc/uptime)"
if [ -x /lab/run ]; then /lab/run </dev/null; code=$?; else code=127; fi
echo "${GUEST_MARKER.exit} $code $(cut -d' ' -f1 /proc/uptime)"
poweroff -f
`;

// What node never opens: documentation, glibc's charset converters, OpenSSL's engines.
const FOREIGN_ROOT_SKIPS = [/^usr\/share\/(doc|man|lintian)\//, /\/gconv\//, /\/engines-3\//, /^\.complete$/];

export interface BaseImageOptions {
  /** Include node and its libraries (default true). */
  node?: boolean;
  /** The guest's architecture (default x86_64, the host's). */
  arch?: Arch;
  /**
   * For an aarch64 guest with node: a directory holding an arm64 root with usr/bin/node and the
   * libraries it loads (copied as they are, symlinks kept).
   */
  foreignNodeRoot?: string;
  labDir?: string;
}

/** Where lab-setup.sh puts the arm64 guests' busybox-static. */
export function foreignBusybox(arch: Arch, labDir = resolveLabDir()): string {
  return join(labDir, 'userland', arch, 'busybox');
}

/** The base archive's path, built when its node/busybox/init changed since. */
export function baseGuestImage(options: BaseImageOptions = {}): string {
  const withNode = options.node !== false;
  const arch = options.arch ?? 'x86_64';
  const labDir = options.labDir ?? resolveLabDir();
  if (!existsSync(BUSYBOX)) throw new LbcError('LBC_ERR_LAB_NOT_SET_UP', `${BUSYBOX} is missing (busybox-static); run ${LAB_SETUP_COMMAND}`);
  const busybox = arch === 'x86_64' ? BUSYBOX : foreignBusybox(arch, labDir);
  if (!existsSync(busybox)) throw new LbcError('LBC_ERR_LAB_NOT_SET_UP', `${busybox} is missing (Debian's ${arch} busybox-static); run ${LAB_SETUP_COMMAND}`);
  const foreignNode = arch === 'x86_64' ? undefined : options.foreignNodeRoot;
  if (withNode && arch !== 'x86_64' && !(foreignNode && existsSync(join(foreignNode, 'usr/bin/node')))) {
    throw new LbcError('LBC_ERR_LAB_NOT_SET_UP', `an ${arch} guest with node needs foreignNodeRoot: a directory with ${arch}'s usr/bin/node and its libraries`);
  }
  const node = foreignNode ? join(foreignNode, 'usr/bin/node') : process.execPath;
  const key = createHash('sha256')
    .update(GUEST_INIT)
    .update([busybox, ...(withNode ? [node] : [])].map((f) => `${f}:${statSync(f).size}:${statSync(f).mtimeMs}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const dir = join(labDir, 'images');
  const path = join(dir, `base-${arch === 'x86_64' ? '' : `${arch}-`}${withNode ? 'node' : 'busybox'}-${key}.cpio`);
  if (existsSync(path)) return path;

  mkdirSync(dir, { recursive: true });
  const root = new GuestRoot();
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'root', 'run', 'lab']) root.addDir(d);
  root.addCharDevice('dev/console', 5, 1);
  root.addCharDevice('dev/null', 1, 3, 0o666);
  root.addHostFile(busybox, 'bin/busybox', 0o755);
  // The host's busybox names the applets: a foreign one cannot run here, and Debian builds both alike.
  for (const applet of execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    if (applet !== 'bin/busybox') root.addSymlink(applet, '/bin/busybox');
  }
  root.addText('init', GUEST_INIT, 0o755);
  root.addText('etc/os-release', 'ID=debian\nNAME="lbc kernel lab"\n');
  if (withNode && foreignNode) root.addTreeAsIs(foreignNode, '/', FOREIGN_ROOT_SKIPS);
  else if (withNode) root.addHostBinary(node, '/usr/bin/node');
  const partial = `${path}.${process.pid}.tmp`;
  root.writeCpio(partial);
  renameSync(partial, path);
  return path;
}
