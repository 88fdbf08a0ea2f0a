import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLbcError } from '@lbc/contract';
import { resolveSource } from '../src/source/resolve-source.ts';
import { collectLocalIncludes } from '../src/source/local-includes.ts';

describe('program source and local includes', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lbc-source-'));
    writeFileSync(join(dir, 'independ.bpf.c'), '#include "lbc.h"\n#include "common.h"\nint x;\n');
    writeFileSync(join(dir, 'common.h'), '#pragma once\n#include "sub/deep.h"\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'deep.h'), '#include "sibling.h"\n');
    writeFileSync(join(dir, 'sub', 'sibling.h'), '#define SIB 1\n');
    mkdirSync(join(dir, 'inc'));
    writeFileSync(join(dir, 'inc', 'extra.h'), '#define EXTRA 1\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads ./NAME.bpf.c when no source is given', () => {
    const s = resolveSource('independ', undefined, dir);
    expect(s.source).toContain('common.h');
    expect(s.path).toBe(join(dir, 'independ.bpf.c'));
    expect(resolveSource('x', 'given', dir).source).toBe('given');
  });

  it('fails with LBC_ERR_SOURCE_NOT_FOUND naming the missing file', () => {
    const err = (() => {
      try {
        resolveSource('absent', undefined, dir);
      } catch (e) {
        return e;
      }
    })();
    expect(isLbcError(err, 'LBC_ERR_SOURCE_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain(join(dir, 'absent.bpf.c'));
  });

  it('sends quoted includes found locally, transitively, relative to the including file', () => {
    const src = '#include "common.h"\n#include "extra.h"\n#include "lbc.h"\n#include "../etc/passwd"\n';
    const inc = collectLocalIncludes(src, [dir, join(dir, 'inc')]);
    expect(Object.keys(inc).sort()).toEqual(['common.h', 'extra.h', 'sub/deep.h', 'sub/sibling.h']);
    expect(inc['sub/sibling.h']).toContain('SIB');
  });

  it('keeps explicit includes and scans them too', () => {
    const inc = collectLocalIncludes('#include "mine.h"\n', [dir], { 'mine.h': '#include "common.h"\n' });
    expect(Object.keys(inc).sort()).toEqual(['common.h', 'mine.h', 'sub/deep.h', 'sub/sibling.h']);
  });
});
