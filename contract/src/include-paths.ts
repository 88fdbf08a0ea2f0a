/**
 * The names of a program's include files (the keys of `includes`) become files under the job's
 * source directory, so each must be a plain relative path that can be a file there: checked up
 * front, by the API (400) and again by the worker, so a bad name is the user's error, never a
 * sandbox fault. Names are refused rather than normalised: `a//b.h`, `./a.h` and `a/./b.h` are
 * not quietly made `a/b.h`, so no two keys can name one file.
 */
import { LbcError } from './errors.ts';

export const INCLUDE_PATH_LIMITS = {
  /** Bytes of one segment (NAME_MAX of Linux file systems). */
  maxSegmentBytes: 255,
  /** Bytes of a whole name (well inside PATH_MAX once under the job directory). */
  maxPathBytes: 1024,
  /** Directory levels. */
  maxDepth: 16,
} as const;

const SEGMENT = /^[A-Za-z0-9_.+-]+$/;

const forbidden = (path: string, why: string) =>
  new LbcError('LBC_ERR_INCLUDE_FORBIDDEN', `${JSON.stringify(path)}: ${why}`, { field: 'includes', path });
const invalid = (path: string, why: string, extra: Record<string, unknown> = {}) =>
  new LbcError('LBC_ERR_INCLUDE_NAME_INVALID', `${JSON.stringify(path)}: ${why}`, { field: 'includes', path, ...extra });

function checkOne(path: string): void {
  const { maxSegmentBytes, maxPathBytes, maxDepth } = INCLUDE_PATH_LIMITS;
  if (path === '') throw invalid(path, 'an empty name');
  // Before anything prints it: a control character in a name is never meant.
  if (/[\0-\x1f\x7f]/.test(path)) throw invalid(path, 'a control character in the name');
  if (/^([/\\]|[A-Za-z]:)/.test(path)) throw forbidden(path, 'an absolute path');
  const segments = path.split('/');
  if (segments.includes('..')) throw forbidden(path, 'a ".." segment');
  if (segments.some((s) => s === '' || s === '.')) {
    const plain = segments.filter((s) => s !== '' && s !== '.').join('/');
    throw invalid(path, `an empty or "." segment${plain ? ` (write it as ${JSON.stringify(plain)})` : ''}`);
  }
  const bad = segments.find((s) => !SEGMENT.test(s));
  if (bad !== undefined) throw invalid(path, `segment ${JSON.stringify(bad)} holds a character other than letters, digits and . _ + -`);
  const long = segments.find((s) => Buffer.byteLength(s) > maxSegmentBytes);
  if (long !== undefined) throw invalid(path, `a segment of ${Buffer.byteLength(long)} bytes; the limit is ${maxSegmentBytes}`, { limit: maxSegmentBytes });
  if (Buffer.byteLength(path) > maxPathBytes) throw invalid(path, `${Buffer.byteLength(path)} bytes; the limit is ${maxPathBytes}`, { limit: maxPathBytes });
  if (segments.length > maxDepth) throw invalid(path, `${segments.length} levels deep; the limit is ${maxDepth}`, { limit: maxDepth });
}

/**
 * Checks the include names of one program whose main file is `mainFile`: each alone (above), and
 * together: no name is the main file, and no name is both a file and a directory (`q` and `q/b.h`).
 */
export function validateIncludePaths(paths: readonly string[], mainFile: string): void {
  for (const path of paths) checkOne(path);
  const files = new Set([mainFile, ...paths]);
  for (const path of paths) {
    if (path === mainFile) throw invalid(path, 'the name of the program\'s own file', { conflictsWith: mainFile });
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const dir = segments.slice(0, i).join('/');
      if (files.has(dir)) throw invalid(path, `${JSON.stringify(dir)} is a file, so it cannot also be a directory`, { conflictsWith: dir });
    }
  }
}
