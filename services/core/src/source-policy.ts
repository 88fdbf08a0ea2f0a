/**
 * A scan of program sources before anything reaches clang, so the API can refuse early with a 400.
 * It is defence in depth only: an #include whose name is built from macros escapes any scan, and
 * the compile sandbox (a container holding nothing of the host) remains the barrier.
 */
import { LbcError } from '@lbc/contract';

const TRIGRAPHS: Record<string, string> = { '=': '#', '(': '[', ')': ']', '/': '\\', "'": '^', '<': '{', '>': '}', '!': '|', '-': '~' };

/**
 * Rewrites the text the way clang's first translation phases would see it: trigraphs (clang
 * honours them with -trigraphs or -std=c89), line splices, comments and the `%:` digraph. String
 * and character literals are kept, so a "/*" inside a string cannot hide a directive from the scan.
 */
export function normaliseSource(text: string): string {
  const spliced = text
    .replace(/\?\?([=()/'<>!-])/g, (_, c: string) => TRIGRAPHS[c]!)
    .replace(/\\[ \t]*\r?\n/g, '');
  let out = '';
  let i = 0;
  while (i < spliced.length) {
    const c = spliced[i]!;
    const next = spliced[i + 1];
    if (c === '/' && next === '*') {
      const end = spliced.indexOf('*/', i + 2);
      out += ' ';
      i = end < 0 ? spliced.length : end + 2;
    } else if (c === '/' && next === '/') {
      const end = spliced.indexOf('\n', i + 2);
      i = end < 0 ? spliced.length : end;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < spliced.length && spliced[j] !== c && spliced[j] !== '\n') j += spliced[j] === '\\' ? 2 : 1;
      out += spliced.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out.replace(/%:/g, '#');
}

const INCLUDE_DIRECTIVE = /^[ \t]*#[ \t]*(include_next|include|import|embed)\b[ \t]*(.*)$/gm;

function forbiddenPath(path: string): boolean {
  return path.startsWith('/') || path.startsWith('\\') || /(^|[/\\])\.\.([/\\]|$)/.test(path) || /^[A-Za-z]:/.test(path);
}

/**
 * Refuses, per file: an include of an absolute path or one with a ".." segment
 * (LBC_ERR_INCLUDE_FORBIDDEN), and `.incbin` anywhere (LBC_ERR_SOURCE_FORBIDDEN).
 * `files` maps the user's file names (main source and includes) to their text.
 */
export function scanSource(files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    const normalised = normaliseSource(text);
    for (const match of normalised.matchAll(INCLUDE_DIRECTIVE)) {
      const operand = match[2]!.trim();
      const quoted = /^"([^"]*)"|^<([^>]*)>/.exec(operand);
      const path = quoted ? (quoted[1] ?? quoted[2]!) : undefined;
      if (path !== undefined && forbiddenPath(path)) {
        throw new LbcError('LBC_ERR_INCLUDE_FORBIDDEN', `${file}: #${match[1]} ${operand}`, { file, directive: match[1], path });
      }
    }
    if (/\.incbin\b/i.test(normalised)) {
      throw new LbcError('LBC_ERR_SOURCE_FORBIDDEN', `${file}: .incbin`, { file, construct: '.incbin' });
    }
  }
}
