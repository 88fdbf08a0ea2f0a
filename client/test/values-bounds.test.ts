/**
 * Decoders and encoders are generated from an object's BTF, which a service (or anyone who can
 * write the cache) supplies. A struct inside itself, or 8 structs of 8 structs nine deep (134
 * million fields), is a TypeError naming the bound, quickly, instead of a stack overflow or a heap
 * filled with generated code; real shapes keep their decoders.
 */
import { describe, expect, it } from 'vitest';
import { BtfWriter, parseBtf } from '@lbc/btf';
import { compileDecoder, compileEncoder } from '../src/values/index.ts';

function selfNested() {
  const w = new BtfWriter();
  const int = w.int('int');
  const self = w.reserve();
  w.struct('ouroboros', 8, [{ name: 'me', type: self, bitOffset: 0 }, { name: 'n', type: int, bitOffset: 32 }], self);
  return { btf: parseBtf(w.build()), id: self };
}

function anonymousSelf() {
  const w = new BtfWriter();
  const int = w.int('int');
  const self = w.reserve();
  w.struct('', 8, [{ name: '', type: self, bitOffset: 0 }, { name: 'n', type: int, bitOffset: 32 }], self);
  return { btf: parseBtf(w.build()), id: self };
}

function eightToTheNine() {
  const w = new BtfWriter();
  let level = w.struct('level0', 4, [{ name: 'a', type: w.int('int'), bitOffset: 0 }]);
  let size = 4;
  for (let k = 1; k <= 9; k++) {
    level = w.struct(`level${k}`, size * 8, Array.from({ length: 8 }, (_, i) => ({ name: `m${i}`, type: level, bitOffset: i * size * 8 })));
    size *= 8;
  }
  return { btf: parseBtf(w.build()), id: level, level3: level - 6 };
}

describe('generating decoders and encoders from hostile BTF', () => {
  it('a struct containing itself is a TypeError naming the depth bound', () => {
    const { btf, id } = selfNested();
    expect(() => compileDecoder(btf, id, true)).toThrow(/cannot decode struct ouroboros: its type nests deeper than 64 levels/);
    expect(() => compileEncoder(btf, id, true)).toThrow(/cannot encode struct ouroboros: its type nests deeper than 64 levels/);
  });

  it('an anonymous struct lifting itself in is a TypeError, not an endless walk', () => {
    const { btf, id } = anonymousSelf();
    expect(() => compileDecoder(btf, id, true)).toThrow(/anonymous members nest deeper than 64 levels/);
  });

  it('8^9 nested fields are refused within seconds; level3 (512 fields) still decodes', () => {
    const { btf, id, level3 } = eightToTheNine();
    const t = performance.now();
    expect(() => compileDecoder(btf, id, true)).toThrow(/more than 100000 parts/);
    expect(() => compileEncoder(btf, id, true)).toThrow(/more than 100000 parts/);
    expect(performance.now() - t).toBeLessThan(5_000);
    expect(btf.type(level3).name).toBe('level3');
    const value = compileDecoder(btf, level3, true)(Buffer.alloc(btf.sizeof(level3))) as Record<string, Record<string, unknown>>;
    expect(Object.keys(value)).toHaveLength(8);
    expect(value.m7).toMatchObject({ m7: { m7: { a: 0 } } });
  });
});
