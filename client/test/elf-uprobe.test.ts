import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../src/native/index.ts';
import { createMaps } from '../src/maps/index.ts';
import { resolveLibrary, resolveSymbolOffset } from '../src/elf/index.ts';
import { compileBpf } from './fixtures/maps-build.ts';
import { privateTrue } from '@lbc/test-support/private-true';

const LBC_H_DIR = fileURLToPath(new URL('../../include', import.meta.url));

function withUprobeObject(run: (obj: ReturnType<ReturnType<typeof loadNative>['openObject']>, maps: ReturnType<typeof createMaps>['maps']) => void): void {
  const native = loadNative();
  const source = readFileSync(new URL('./fixtures/maps-uprobe.bpf.c', import.meta.url), 'utf8');
  const obj = native.openObject(compileBpf('maps-uprobe', source, { includeDirs: [LBC_H_DIR] }), 'maps_uprobe');
  try {
    obj.load();
    const mapSet = createMaps(native, obj, obj.btf());
    try {
      run(obj, mapSet.maps);
    } finally {
      mapSet.close();
    }
  } finally {
    obj.close();
  }
}

describe('uprobe at the offset resolveSymbolOffset computes', () => {
  it('fires when true(1) calls libc exit()', () => {
    withUprobeObject((obj, maps) => {
      const libc = resolveLibrary('libc');
      const tru = privateTrue();
      const link = obj.attachUprobe('on_call', false, -1, libc, resolveSymbolOffset(libc, 'exit'));
      try {
        for (let i = 0; i < 2; i++) execFileSync(tru.path);
        expect(maps.calls.get({ comm: tru.comm })).toBe(2n);
      } finally {
        link.destroy();
      }
    });
  });

  it('a user stack taken in this process symbolises to getppid in libc', () => {
    withUprobeObject((obj, maps) => {
      const libc = resolveLibrary('libc');
      // process.ppid asks libuv, which calls libc getppid() every time.
      const link = obj.attachUprobe('on_user_stack', false, process.pid, libc, resolveSymbolOffset(libc, 'getppid'));
      try {
        expect(process.ppid).toBeGreaterThan(0);
      } finally {
        link.destroy();
      }
      const id = maps.last_stack.get(0) as number;
      expect(id).toBeGreaterThanOrEqual(0);
      const frames = maps.ustacks.stacks(id, { pid: process.pid });
      expect(frames[0]).toMatchObject({ name: 'getppid', offset: 0, kernel: false, text: 'getppid+0x0' });
      expect(realpathSync(frames[0].module!)).toBe(realpathSync(libc));
    });
  });
});
