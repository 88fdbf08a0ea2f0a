import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { LbcError, type Arch, type CompileTarget } from '@lbc/contract';
import { rememberedBtfSha256 } from './btf-identity-cache.ts';

export const KERNEL_BTF_PATH = '/sys/kernel/btf/vmlinux';

/** The running kernel as the service needs it, plus where its BTF is (for an upload). */
export interface DetectedTarget extends CompileTarget {
  /** Path of the raw BTF the hash was computed over; absent on kernels built without BTF. */
  btfPath?: string;
}

const ARCH_BY_NODE: Record<string, Arch> = { x64: 'x86_64', arm64: 'aarch64' };
const ARCH_BY_UNAME: Record<string, Arch> = { x86_64: 'x86_64', amd64: 'x86_64', aarch64: 'aarch64', arm64: 'aarch64' };

export function normalizeArch(name: string): Arch | undefined {
  return ARCH_BY_UNAME[name] ?? ARCH_BY_NODE[name];
}

/** ID= from an os-release file, unquoted; undefined when the file or the field is missing. */
export function parseOsReleaseId(text: string): string | undefined {
  const line = text.split('\n').find((l) => l.startsWith('ID='));
  return line?.slice(3).trim().replace(/^["']|["']$/g, '') || undefined;
}

const btfHashes = new Map<string, string>();

/** sha256 of the raw BTF; memoised per path because vmlinux BTF is megabytes and never changes under a running kernel. */
export function btfSha256Of(path: string): string {
  let sha = btfHashes.get(path);
  if (!sha) {
    sha = createHash('sha256').update(readFileSync(path)).digest('hex');
    btfHashes.set(path, sha);
  }
  return sha;
}

export interface DetectOptions {
  btfPath?: string;
  osReleasePath?: string;
  /** A directory (the client cache) where the running kernel's BTF hash is remembered for this boot. */
  rememberIn?: string;
}

export function detectTarget(opts: DetectOptions = {}): DetectedTarget {
  const release = os.release();
  const arch = normalizeArch(os.machine()) ?? normalizeArch(process.arch);
  if (!release || !arch) {
    throw new LbcError('LBC_ERR_KERNEL_DETECT', `release ${JSON.stringify(release)}, machine ${JSON.stringify(os.machine())}`);
  }
  const target: DetectedTarget = { release, arch };
  for (const p of [opts.osReleasePath ?? '/etc/os-release', '/usr/lib/os-release']) {
    if (!existsSync(p)) continue;
    const id = parseOsReleaseId(readFileSync(p, 'utf8'));
    if (id) target.distro = id;
    break;
  }
  const btfPath = opts.btfPath ?? KERNEL_BTF_PATH;
  if (existsSync(btfPath)) {
    // Only the running kernel's own BTF is tied to the boot; any other file is hashed as it is.
    target.btfSha256 = opts.rememberIn && btfPath === KERNEL_BTF_PATH ? rememberedBtfSha256(opts.rememberIn, btfPath, btfSha256Of) : btfSha256Of(btfPath);
    target.btfPath = btfPath;
  }
  return target;
}

/** The part of a detected target that goes on the wire. */
export function wireTarget(t: DetectedTarget): CompileTarget {
  const { btfPath: _btfPath, ...wire } = t;
  return wire;
}
