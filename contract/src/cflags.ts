import { LbcError } from './errors.ts';

const DEFINE = /^-D[A-Za-z_][A-Za-z0-9_]*(=.*)?$/s;
const UNDEF = /^-U[A-Za-z_][A-Za-z0-9_]*$/;
/** C0 controls but tab, and DEL: no macro needs them, and \n, \r or NUL would end the #define early. */
const CONTROL = /[\0-\x08\x0a-\x1f\x7f]/;

/**
 * Why a -D value could reach past its own macro, or undefined when it cannot. The compiler writes
 * each -D as a `#define` line of one buffer, in order, so a value ending in a backslash (a line
 * splice, also as the trigraph ??/) or opening a comment it does not close would take the next
 * flags' lines into this macro or hide them. clang escapes a trailing backslash today; this does
 * not rely on it.
 */
function valueEscapes(value: string): string | undefined {
  if (CONTROL.test(value)) return 'the value holds a control character (newline, carriage return, NUL, ...)';
  if (/(\\|\?\?\/)[ \t]*$/.test(value)) return 'the value ends in a backslash, which would continue the macro onto the next flag';
  if (opensComment(value)) return 'the value opens a /* comment it does not close, which would hide the next flags';
  return undefined;
}

/** True when `/*` starts a comment (outside string and character literals) with no closing `*\/`. */
function opensComment(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      i = j;
    } else if (c === '/' && text[i + 1] === '/') {
      return false;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return true;
      i = end + 1;
    }
  }
  return false;
}

/** Accepts only -DNAME[=VALUE] and -UNAME; throws LBC_ERR_CFLAG_FORBIDDEN naming the first other flag. */
export function validateCflags(cflags: readonly string[]): string[] {
  for (const flag of cflags) {
    if (typeof flag !== 'string' || !(DEFINE.test(flag) || UNDEF.test(flag))) {
      throw new LbcError('LBC_ERR_CFLAG_FORBIDDEN', JSON.stringify(flag), { flag });
    }
    const eq = flag.indexOf('=');
    const why = eq < 0 ? undefined : valueEscapes(flag.slice(eq + 1));
    if (why) throw new LbcError('LBC_ERR_CFLAG_FORBIDDEN', `${JSON.stringify(flag)}: ${why}`, { flag });
  }
  return [...cflags];
}
