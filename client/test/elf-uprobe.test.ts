import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../src/native/index.ts';
import { createMaps } from '../src/maps/index.ts';
import { resolveLibrary, resolveSymbolOffset } from '../src/elf/index.ts';
import { compileBpf } from './fixtures/maps-build.ts';

const LBC_H_DIR = fileURLToPath(new URL('../../services/core/include', import.meta.url));

describe('uprobe at the offset resolveSymbolOffset computes', () => {
  it('fires when /bin/true calls libc exit()', () => {
    const native = loadNative();
    const source = readFileSync(new URL('./fixtures/maps-uprobe.bpf.c', import.meta.url), 'utf8');
    const obj = native.openObject(compileBpf('maps-uprobe', source, { includeDirs: [LBC_H_DIR] }), 'maps_uprobe');
    try {
      obj.load();
      const maps = createMaps(native, obj, obj.btf());
      const libc = resolveLibrary('libc');
      const link = obj.attachUprobe('on_call', false, -1, libc, resolveSymbolOffset(libc, 'exit'));
      try {
        for (let i = 0; i < 2; i++) execFileSync('/bin/true');
        expect(maps.calls.get({ comm: 'true' })).toBe(2n);
      } finally {
        link.destroy();
        maps.close();
      }
    } finally {
      obj.close();
    }
  });
});
