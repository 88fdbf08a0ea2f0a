/**
 * Types of a user-space binary for P/R probes, from its DWARF (gcc -g). pahole (dwarves) encodes
 * them as BTF, so user structs resolve exactly like kernel ones. Without debug info, or without
 * pahole, there are no types: arguments are then read as untyped 64-bit registers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBtf, type Btf } from '@lbc/btf';

export interface BinaryTypes {
  btf?: Btf;
  /** Why there are no types, for the message when an expression needs them. */
  missing?: string;
}

const cache = new Map<string, BinaryTypes>();

export function binaryTypes(path: string): BinaryTypes {
  let hit = cache.get(path);
  if (!hit) {
    hit = encode(path);
    cache.set(path, hit);
  }
  return hit;
}

function encode(path: string): BinaryTypes {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-trace-btf-'));
  const out = join(dir, 'types.btf');
  try {
    execFileSync('pahole', ['-J', `--btf_encode_detached=${out}`, path], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    const btf = parseBtf(readFileSync(out));
    return btf.count > 0 ? { btf } : { missing: `${path} has no debug info (build it with -g)` };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') return { missing: 'pahole is not installed (apt-get install dwarves) to read debug info' };
    return { missing: `${path} has no readable debug info (build it with -g)` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
