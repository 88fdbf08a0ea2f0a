/**
 * BTF built to hurt the indexer: structs nesting 8 structs deep enough to flatten into 134 million
 * members, function-pointer parameters whose spelling doubles at each level, and cycles. Each is
 * indexed in bounded time and space, with what was cut marked, and a real layout stays intact.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtfWriter, parseBtf } from '@lbc/btf';
import { CatalogReader, buildCatalogFile } from '@lbc/core';
import { MAX_FLAT_MEMBERS } from '../src/catalog/struct-layout.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lbc-catalog-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function indexed(btf: Buffer, name: string): { reader: CatalogReader; ms: number; bytes: number } {
  parseBtf(btf); // what registration checks first: these are valid BTF
  const path = join(dir, `${name}.sqlite`);
  const t = performance.now();
  buildCatalogFile(btf, path, name);
  return { reader: new CatalogReader(path, name), ms: performance.now() - t, bytes: statSync(path).size };
}

describe('indexing hostile BTF', () => {
  it('a struct that would flatten into 8^9 members is cut at the bound and marked truncated', () => {
    const w = new BtfWriter();
    const int = w.int('int');
    let level = w.struct('level0', 4, [{ name: 'a', type: int, bitOffset: 0 }]);
    let size = 4;
    for (let k = 1; k <= 9; k++) {
      const members = Array.from({ length: 8 }, (_, i) => ({ name: `m${i}`, type: level, bitOffset: i * size * 8 }));
      level = w.struct(`level${k}`, size * 8, members);
      size *= 8;
    }
    const { reader, ms, bytes } = indexed(w.build(), 'nested');
    const top = reader.struct('level9');
    expect(top.truncated).toBe(true);
    expect(top.members.length).toBeLessThanOrEqual(MAX_FLAT_MEMBERS + 8 * 9);
    expect(top.members.filter((m) => m.depth === 0)).toHaveLength(8);
    // Small enough levels are complete: level3 has 8 + 64 + 512 + 512 members.
    const small = reader.struct('level3');
    expect(small.truncated).toBeUndefined();
    expect(small.members).toHaveLength(8 + 64 + 512 + 512);
    expect(small.members.at(-1)).toMatchObject({ path: 'm7.m7.m7.a', offset: 7 * 256 + 7 * 32 + 7 * 4 });
    console.log(`nested: indexed in ${Math.round(ms)} ms, ${(bytes / 1e6).toFixed(1)} MB`);
    expect(ms).toBeLessThan(30_000);
    expect(bytes).toBeLessThan(100e6);
  });

  it('function pointers nested 20 deep get a bounded spelling', () => {
    const w = new BtfWriter();
    const int = w.int('int');
    let proto = w.funcProto(int, [{ name: 'a', type: int }]);
    for (let k = 1; k <= 20; k++) {
      const fp = w.ptr(proto);
      proto = w.funcProto(int, Array.from({ length: 8 }, (_, i) => ({ name: `p${i}`, type: fp })));
    }
    w.func('victim', proto);
    const { reader, ms } = indexed(w.build(), 'protos');
    const f = reader.func('victim');
    expect(f.params).toHaveLength(8);
    expect(f.proto.length).toBeLessThan(100_000);
    expect(f.proto.startsWith('int victim(int (*p0)(')).toBe(true);
    expect(ms).toBeLessThan(10_000);
  });

  it('cycles (a struct containing itself, a struct reached through a pointer to itself) terminate', () => {
    const w = new BtfWriter();
    const int = w.int('int');
    const self = w.reserve();
    w.struct('ouroboros', 8, [{ name: 'me', type: self, bitOffset: 0 }, { name: 'again', type: self, bitOffset: 32 }, { name: 'n', type: int, bitOffset: 32 }], self);
    const loopPtr = w.reserve();
    const ptrRecord = w.ptr(loopPtr);
    w.struct('pointy', 8, [{ name: 'p', type: ptrRecord, bitOffset: 0 }], loopPtr);
    const { reader } = indexed(w.build(), 'cycles');
    const layout = reader.struct('ouroboros');
    expect(layout.members.length).toBeLessThanOrEqual(MAX_FLAT_MEMBERS + 3 * 32);
    expect(layout.members.filter((m) => m.depth === 0).map((m) => m.name)).toEqual(['me', 'again', 'n']);
    expect(reader.struct('pointy').members[0]).toMatchObject({ decl: 'struct pointy *p', size: 8 });
  });

  it('a loop-free chain of 30,000 typedefs, arrays and pointers is indexed in bounded time, without blowing the stack', () => {
    const w = new BtfWriter();
    const int = w.int('int');
    let id = int;
    for (let i = 0; i < 10_000; i++) id = w.typedef(`t${i}`, w.array(w.ptr(id), 2, int));
    w.struct('holder', 16, [{ name: 'deep', type: id, bitOffset: 0 }, { name: 'n', type: int, bitOffset: 64 }]);
    const { reader, ms } = indexed(w.build(), 'deep');
    const holder = reader.struct('holder');
    expect(holder.members.map((m) => m.name)).toEqual(['deep', 'n']);
    expect(holder.members[0]!.type).toBe('t9999');
    expect(reader.types('t0').types[0]).toMatchObject({ kind: 'typedef', size: 16 });
    expect(reader.types('t9999').types[0]).toMatchObject({ kind: 'typedef', size: 16 });
    expect(ms).toBeLessThan(30_000);
  });
});
