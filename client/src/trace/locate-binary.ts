import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { LbcError } from '@lbc/contract';

/** A P/R binary: a path, a program found in PATH, or a library name (libc, libc.so.6). */
export function locateBinary(name: string, resolveLibrary: (n: string) => string): string {
  if (name.includes('/')) {
    const path = isAbsolute(name) ? name : resolve(name);
    if (!existsSync(path)) throw new LbcError('LBC_ERR_SYMBOL_NOT_FOUND', `${name}: no such file`, { binary: name });
    return realpathSync(path);
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const candidate = resolve(dir, name);
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  if (existsSync(name)) return realpathSync(resolve(name));
  return realpathSync(resolveLibrary(name));
}
