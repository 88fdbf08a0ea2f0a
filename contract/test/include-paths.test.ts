import { describe, expect, it } from 'vitest';
import { INCLUDE_PATH_LIMITS, validateIncludePaths } from '../src/index.ts';

const MAIN = 'hello.bpf.c';
const refusal = (paths: string[]) => {
  try {
    validateIncludePaths(paths, MAIN);
  } catch (err) {
    return err as { code: string; message: string; details: Record<string, unknown> };
  }
  return undefined;
};

describe('include names', () => {
  it('accepts plain relative names, nested or not', () => {
    expect(refusal(['x.h', 'sub/y.h', 'sub/deeper/z.h', 'a-b_c+d.1.h', `${'s'.repeat(255)}.h`.slice(0, 255)])).toBeUndefined();
  });

  it.each([
    ['a file and a directory of one name', ['q', 'q/b'], 'q/b', 'q'],
    ['the other order', ['q/b/c.h', 'q/b'], 'q/b/c.h', 'q/b'],
    ['the main file as a directory', [`${MAIN}/x.h`], `${MAIN}/x.h`, MAIN],
    ['the main file itself', [MAIN], MAIN, MAIN],
  ])('refuses %s with LBC_ERR_INCLUDE_NAME_INVALID naming both', (_, paths, path, conflictsWith) => {
    const err = refusal(paths);
    expect(err).toMatchObject({ code: 'LBC_ERR_INCLUDE_NAME_INVALID', details: { field: 'includes', path, conflictsWith } });
    expect(err!.message).toContain(JSON.stringify(path));
  });

  it.each([
    ['a 300-character segment', 'x'.repeat(300), /300 bytes; the limit is 255/],
    ['a name over 1024 bytes', Array.from({ length: 9 }, () => 'd'.repeat(120)).join('/'), /1088 bytes; the limit is 1024/],
    ['17 levels', Array.from({ length: 17 }, () => 'd').join('/'), /17 levels deep/],
    ['an empty name', '', /empty name/],
    ['an empty segment', 'a//b.h', /empty or "\." segment/],
    ['a trailing slash', 'a/', /empty or "\." segment/],
    ['a "." segment', './a.h', /empty or "\." segment/],
    ['a NUL', 'a\0.h', /control character/],
    ['a newline', 'a\n.h', /control character/],
    ['an escape sequence', 'a\x1b[2J.h', /control character/],
    ['a space', 'a b.h', /holds a character other than/],
    ['a backslash', 'a\\b.h', /holds a character other than/],
  ])('refuses %s with LBC_ERR_INCLUDE_NAME_INVALID', (_, path, why) => {
    const err = refusal([path]);
    expect(err).toMatchObject({ code: 'LBC_ERR_INCLUDE_NAME_INVALID', details: { field: 'includes', path } });
    expect(err!.message).toMatch(why);
  });

  it.each(['/etc/passwd', '\\x.h', 'C:x.h', '../x.h', 'a/../../b.h', '..'])('refuses %s as outside the program (LBC_ERR_INCLUDE_FORBIDDEN)', (path) => {
    expect(refusal([path])).toMatchObject({ code: 'LBC_ERR_INCLUDE_FORBIDDEN', details: { path } });
  });

  it('the limits are the ones the hint states', () => {
    expect(INCLUDE_PATH_LIMITS).toEqual({ maxSegmentBytes: 255, maxPathBytes: 1024, maxDepth: 16 });
  });
});
