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
  if (source !== undefined) return { source, dir: resolve(cwd) };
  const path = join(resolve(cwd), `${name}.bpf.c`);
  if (!existsSync(path)) throw new LbcError('LBC_ERR_SOURCE_NOT_FOUND', `${path} does not exist`, { path });
  return { source: readFileSync(path, 'utf8'), dir: resolve(cwd), path };
}
