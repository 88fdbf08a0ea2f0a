import { LbcError } from './errors.ts';

const DEFINE = /^-D[A-Za-z_][A-Za-z0-9_]*(=[^\0\n\r]*)?$/;
const UNDEF = /^-U[A-Za-z_][A-Za-z0-9_]*$/;

/** Accepts only -DNAME[=VALUE] and -UNAME; throws LBC_ERR_CFLAG_FORBIDDEN naming the first other flag. */
export function validateCflags(cflags: readonly string[]): string[] {
  for (const flag of cflags) {
    if (typeof flag !== 'string' || !(DEFINE.test(flag) || UNDEF.test(flag))) {
      throw new LbcError('LBC_ERR_CFLAG_FORBIDDEN', JSON.stringify(flag), { flag });
    }
  }
  return [...cflags];
}
