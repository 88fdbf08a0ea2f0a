import { describe, expect, it } from 'vitest';
import { cacheKey, jobIdFor, validateCflags, type CacheKeyInput } from '../src/index.ts';

const base: CacheKeyInput = {
  name: 'prog', source: 'int x;', includes: { 'a.h': '1', 'b.h': '2' }, cflags: ['-DA=1'], btfSha256: 'f'.repeat(64),
  arch: 'x86_64', lbcHeaderSha256: 'e'.repeat(64), toolchain: 'img|clang 19',
};

describe('cache key', () => {
  it('ignores include order but not content, flags order, kernel, toolchain, header version, program name or cache scope', () => {
    const k = cacheKey(base);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey({ ...base, includes: { 'b.h': '2', 'a.h': '1' } })).toBe(k);
    for (const change of [
      { source: 'int y;' }, { includes: { 'a.h': '1', 'b.h': '3' } }, { cflags: ['-DA=2'] }, { btfSha256: '0'.repeat(64) },
      { arch: 'aarch64' }, { lbcHeaderSha256: '0'.repeat(64) }, { toolchain: 'img|clang 18' },
      // The name reaches __FILE__, DWARF and diagnostics: one tenant's name never answers another's request.
      { name: 'alice_secret_project' }, { scope: 'alice' },
    ]) {
      expect(cacheKey({ ...base, ...change })).not.toBe(k);
    }
  });

  it('cannot be forged by moving bytes between fields', () => {
    expect(cacheKey({ ...base, source: 'ab', includes: {} })).not.toBe(cacheKey({ ...base, source: 'a', includes: { b: '' } }));
    expect(cacheKey({ ...base, name: 'ab', source: 'c' })).not.toBe(cacheKey({ ...base, name: 'a', source: 'bc' }));
    expect(cacheKey({ ...base, scope: 'alice' })).not.toBe(cacheKey({ ...base, scope: 'bob' }));
  });

  it('makes BullMQ-safe job ids', () => {
    expect(jobIdFor(cacheKey(base))).not.toContain(':');
  });
});

describe('cflags allow-list', () => {
  it('accepts -D and -U', () => {
    expect(validateCflags(['-DFOO', '-DBAR=1', '-DS="x y"', '-UFOO'])).toHaveLength(4);
  });
  it.each(['-fplugin=/tmp/x.so', '-I/etc', '-include/etc/passwd', '-D', '-D1X', '-Xclang', '-o/tmp/x', '-DA=1\n#include'])(
    'refuses %s naming it',
    (flag) => {
      expect(() => validateCflags([flag])).toThrow(expect.objectContaining({ code: 'LBC_ERR_CFLAG_FORBIDDEN', details: { flag } }));
    },
  );
  it('accepts values with backslashes, quotes and comments that stay inside the macro', () => {
    const ok = ['-DS="a\\\\b"', '-DC=\'\\\\\'', '-DX=1 /* one */', '-DY=1 // rest', '-DP="/*"', '-DT=a\tb', '-DE='];
    expect(validateCflags(ok)).toEqual(ok);
  });
  it.each([
    ['a trailing backslash', '-DA=x\\', /ends in a backslash/],
    ['a backslash then blanks', '-DA=x\\ \t', /ends in a backslash/],
    ['a trailing ??/ trigraph', '-DA=x??/', /ends in a backslash/],
    ['a newline', '-DA=1\n-DB=2', /control character/],
    ['a carriage return', '-DA=1\r', /control character/],
    ['a NUL', '-DA=1\0x', /control character/],
    ['a vertical tab', '-DA=1\v', /control character/],
    ['an unclosed comment', '-DA=1 /* -DB=2', /does not close/],
  ])('refuses a -D value with %s, naming the flag and why', (_, flag, why) => {
    expect(() => validateCflags(['-DOK=1', flag, '-DB=2'])).toThrow(expect.objectContaining({ code: 'LBC_ERR_CFLAG_FORBIDDEN', details: { flag }, message: expect.stringMatching(why) }));
  });
});
