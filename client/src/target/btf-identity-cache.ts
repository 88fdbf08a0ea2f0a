import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../cache/atomic-write.ts';

/** The running kernel's BTF cannot change before the next boot: its hash is remembered per boot. */
export const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';
const FILE = 'kernel-btf.json';

interface Remembered {
  bootId: string;
  path: string;
  size: number;
  sha256: string;
}

function bootId(): string | undefined {
  try {
    return readFileSync(BOOT_ID_PATH, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * sha256 of a kernel BTF file, computed once per boot and kept in `dir` (the client cache): hashing
 * the 5 MB /sys/kernel/btf/vmlinux costs a warm start more than loading the program. The entry is
 * used only on the same boot, for the same path and size; anything unreadable or different is
 * recomputed and rewritten.
 */
export function rememberedBtfSha256(dir: string, path: string, compute: (path: string) => string): string {
  const boot = bootId();
  if (!boot) return compute(path);
  const file = join(dir, FILE);
  const size = statSync(path).size;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<Remembered>;
    if (r.bootId === boot && r.path === path && r.size === size && typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256)) {
      return r.sha256;
    }
  } catch {
    // missing or corrupt: recompute below
  }
  const sha256 = compute(path);
  try {
    writeFileAtomic(file, `${JSON.stringify({ bootId: boot, path, size, sha256 } satisfies Remembered)}\n`);
  } catch {
    // a read-only cache directory only costs the next start the hash
  }
  return sha256;
}
