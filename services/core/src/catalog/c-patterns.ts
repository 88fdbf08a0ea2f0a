/**
 * How catalog searches read what users type: C type spellings compared in one canonical form
 * (`struct sock*` = `struct sock *`), and search patterns turned into SQLite GLOBs.
 */

/** Whitespace collapsed, pointer stars attached the way the catalog spells them: `char **`, `char *const`. */
export function normalizeCType(spelling: string): string {
  return spelling
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/\s*\*\s*/g, '*')
    .replace(/([^*\s(])\*/g, '$1 *')
    .replace(/\*(?=[A-Za-z_])/g, '* ')
    .replace(/\* (const|volatile|restrict)\b/g, '*$1');
}

const escapeGlob = (ch: string) => `[${ch}]`;

/** A function-name pattern: `%` and `*` match any run, `?` one character, everything else (`_` too) is literal. */
export function namePattern(like: string): string {
  return like.trim().replace(/\[/g, escapeGlob).replace(/%/g, '*');
}

/** A type pattern: only `%` is a wildcard (`*` is a pointer here). */
export function typePattern(spelling: string): string {
  return normalizeCType(spelling).replace(/[[*?]/g, escapeGlob).replace(/%/g, '*');
}
