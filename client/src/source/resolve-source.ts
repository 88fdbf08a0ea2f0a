import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LbcError } from '@lbc/contract';

export interface ProgramSource {
  source: string;
  /** Directory local `#include "x.h"` files are looked up from first. */
  dir: string;
  /** File the source was read from, when it came from disk. */
  path?: string;
}

/** pylcc semantics: an explicit source wins; otherwise `<name>.bpf.c` in the working directory. */
export function resolveSource(name: string, source?: string, cwd = process.cwd()): ProgramSource {
  if (source !== undefined && typeof source !== 'string') {
    // readFileSync(path) without 'utf8' is the usual way to get here; the scan would fail later, unnamed.
    const got = Buffer.isBuffer(source) ? "a Buffer (read the file with readFileSync(path, 'utf8'))" : source === null ? 'null' : typeof source;
    throw new TypeError(`new Lbc(${JSON.stringify(name)}, source): source is the program's C text (a string), or left out to read ${name}.bpf.c; got ${got}`);
  }
  if (source !== undefined) return { source, dir: resolve(cwd) };
  const path = join(resolve(cwd), `${name}.bpf.c`);
  if (!existsSync(path)) throw new LbcError('LBC_ERR_SOURCE_NOT_FOUND', `${path} does not exist`, { path });
  return { source: readFileSync(path, 'utf8'), dir: resolve(cwd), path };
}
