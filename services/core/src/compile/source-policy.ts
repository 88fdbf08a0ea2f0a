/**
 * A scan of program sources before anything reaches clang, so the API can refuse the obvious with
 * a 400 naming the file. It is a courtesy, not the protection: an #include or #embed whose name is
 * built from macros (`#define P "/proc/cmdline"` + `#embed P`) escapes any scan short of running
 * the preprocessor, and so do asm strings assembled from pieces. The compile sandbox (a container
 * holding nothing of the host: hardening.ts) is the barrier for all of it.
 *
 * What the scan does see, it sees as clang's first translation phases would: a byte order mark,
 * any line ending, line splices (also with blanks before the newline), comments, string and raw
 * string literals, the `%:` digraph, form feed, vertical tab and NUL as blanks. Where clang's
 * reading depends on a mode (trigraphs, raw strings in C), every reading is scanned.
 */
import { LbcError } from '@lbc/contract';

const TRIGRAPHS: Record<string, string> = { '=': '#', '(': '[', ')': ']', '/': '\\', "'": '^', '<': '{', '>': '}', '!': '|', '-': '~' };

interface Reading {
  /** ??= and friends (clang: -trigraphs or a strict -std). */
  trigraphs: boolean;
  /** R"delim(...)delim" (clang accepts them in its GNU C modes). */
  rawStrings: boolean;
}

/** Every way clang may read a file, depending on its mode: a forbidden directive in any is refused. */
const READINGS: Reading[] = [
  { trigraphs: false, rawStrings: true },
  { trigraphs: false, rawStrings: false },
  { trigraphs: true, rawStrings: true },
  { trigraphs: true, rawStrings: false },
];

const RAW_PREFIX = /(?:^|[^A-Za-z0-9_$])(u8R|uR|UR|LR|R)$/;
const RAW_OPEN = /^"([^ ()\\\t\v\f\n]{0,16})\(/;

/** Phases 1 and 2: BOM, line endings, (trigraphs), line splices. */
function physicalToLogical(text: string, trigraphs: boolean): string {
  let out = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (trigraphs) out = out.replace(/\?\?([=()/'<>!-])/g, (_, c: string) => TRIGRAPHS[c]!);
  return out.replace(/\\[ \t\f\v]*\n/g, '');
}

/**
 * Rewrites the text the way clang's first translation phases would see it: comments become a
 * blank, NUL a blank, `%:` a `#`. String, character and raw string literals are kept, so a "/*"
 * inside one cannot hide a directive from the scan.
 */
export function normaliseSource(text: string, reading: Reading = READINGS[0]!): string {
  const src = physicalToLogical(text, reading.trigraphs);
  const out: string[] = [];
  // Only these characters can start something other than plain code: jump from one to the next.
  const special = /[/"'\0]/g;
  let copied = 0;
  for (let m = special.exec(src); m; m = special.exec(src)) {
    const i = m.index;
    const c = src[i]!;
    const next = src[i + 1];
    let end: number;
    let replacement: string;
    if (c === '/' && next === '*') {
      const close = src.indexOf('*/', i + 2);
      end = close < 0 ? src.length : close + 2;
      replacement = ' ';
    } else if (c === '/' && next === '/') {
      const close = src.indexOf('\n', i + 2);
      end = close < 0 ? src.length : close;
      replacement = '';
    } else if (c === '"' && reading.rawStrings && RAW_PREFIX.test(src.slice(Math.max(0, i - 4), i)) && RAW_OPEN.test(src.slice(i, i + 19))) {
      const delimiter = RAW_OPEN.exec(src.slice(i, i + 19))![1]!;
      const close = src.indexOf(`)${delimiter}"`, i + delimiter.length + 2);
      end = close < 0 ? src.length : close + delimiter.length + 2;
      // Its lines are string, not code: kept as one line so none reads as a directive.
      replacement = src.slice(i, end).replace(/\n/g, ' ');
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      end = Math.min(j + 1, src.length);
      replacement = src.slice(i, end);
    } else if (c === '\0') {
      end = i + 1;
      replacement = ' ';
    } else {
      continue;
    }
    out.push(src.slice(copied, i), replacement);
    copied = end;
    special.lastIndex = end;
  }
  out.push(src.slice(copied));
  return out.join('').replace(/%:/g, '#');
}

/** Blanks clang skips inside a directive line (comments are blanks by now). */
const WS = '[ \\t\\f\\v]';
const INCLUDE_DIRECTIVE = new RegExp(`^${WS}*#${WS}*(include_next|include|import|embed)(?![A-Za-z0-9_$])${WS}*(.*)$`, 'gm');
const HAS_INCLUDE = new RegExp(`(?<![A-Za-z0-9_$])(__has_include_next|__has_include|__has_embed)${WS}*\\(${WS}*(.*)$`, 'gm');
const PRAGMA_DIRECTIVE = new RegExp(`^${WS}*#${WS}*pragma${WS}+(.*)$`, 'gm');
const PRAGMA_OPERATOR = /(?<![A-Za-z0-9_$])_Pragma\s*\(\s*(?:L|u8|u|U)?"((?:[^"\\\n]|\\.)*)"/g;
/** `#pragma GCC dependency "file"` reads the file's modification time. */
const DEPENDENCY_PRAGMA = new RegExp(`^GCC${WS}+dependency${WS}+(.*)$`);

function forbiddenPath(path: string): boolean {
  return path.startsWith('/') || path.startsWith('\\') || /(^|[/\\])\.\.([/\\]|$)/.test(path) || /^[A-Za-z]:/.test(path);
}

/** The file an operand names when it is written out ("x.h" or <x.h>); undefined for a macro. */
function namedPath(operand: string): string | undefined {
  const quoted = /^"([^"]*)"|^<([^>]*)>/.exec(operand.trim());
  return quoted ? (quoted[1] ?? quoted[2]!) : undefined;
}

function refuse(file: string, construct: string, operand: string): never {
  throw new LbcError('LBC_ERR_INCLUDE_FORBIDDEN', `${file}: ${construct} ${operand.trim()}`, { file, directive: construct.replace(/^#/, ''), path: namedPath(operand) });
}

function scanReading(file: string, normalised: string): void {
  for (const m of normalised.matchAll(INCLUDE_DIRECTIVE)) {
    const path = namedPath(m[2]!);
    if (path !== undefined && forbiddenPath(path)) refuse(file, `#${m[1]}`, m[2]!);
  }
  for (const m of normalised.matchAll(HAS_INCLUDE)) {
    const path = namedPath(m[2]!);
    if (path !== undefined && forbiddenPath(path)) refuse(file, m[1]!, m[2]!);
  }
  const pragmas = [
    ...[...normalised.matchAll(PRAGMA_DIRECTIVE)].map((m) => m[1]!),
    // _Pragma("...") is the same pragma, its string unescaped.
    ...[...normalised.matchAll(PRAGMA_OPERATOR)].map((m) => m[1]!.replace(/\\(["\\])/g, '$1')),
  ];
  for (const pragma of pragmas) {
    const dependency = DEPENDENCY_PRAGMA.exec(pragma.trim());
    const path = dependency ? namedPath(dependency[1]!) : undefined;
    if (path !== undefined && forbiddenPath(path)) refuse(file, '#pragma GCC dependency', dependency![1]!);
  }
  if (/\.incbin\b/i.test(normalised)) {
    throw new LbcError('LBC_ERR_SOURCE_FORBIDDEN', `${file}: .incbin`, { file, construct: '.incbin' });
  }
}

/**
 * Refuses, per file: an include, embed, __has_include/__has_embed or dependency pragma naming an
 * absolute path or one with a ".." segment (LBC_ERR_INCLUDE_FORBIDDEN), and `.incbin` anywhere
 * (LBC_ERR_SOURCE_FORBIDDEN). `files` maps the user's file names (main source and includes) to
 * their text.
 */
export function scanSource(files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    // Readings differ only where the text has a trigraph or a raw string prefix: the others are skipped.
    const readings = READINGS.filter((r) => (!r.trigraphs || text.includes('??')) && (r.rawStrings || /R"/.test(text)));
    for (const reading of readings) scanReading(file, normaliseSource(text, reading));
  }
}
