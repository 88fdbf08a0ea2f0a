/**
 * The parser's promise to strangers' bytes: whatever the shape, a parse or a BtfParseError, in time
 * and memory proportional to the input. Each attack is written out, then the refusal it must meet.
 */
import { describe, expect, it } from 'vitest';
import { BtfParseError, BtfWriter, MAX_CHAIN_DEPTH, MAX_NAME_BYTES, parseBtf } from '../src/index.ts';
import { nameBombBtf, repeatedNameBtf, typedefLoopBtf } from '@lbc/test-support/hostile-btf';

function heapGrowthMb(work: () => void): number {
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 1);
  try {
    work();
  } finally {
    clearInterval(sample);
  }
  return (Math.max(peak, process.memoryUsage().heapUsed) - before) / 1e6;
}

describe('names cost what the input costs', () => {
  it('400 types naming suffixes of one 16 MB string (6.4 GB as copies) are refused at once', () => {
    const { raw, gzip } = nameBombBtf();
    expect(gzip.length).toBeLessThan(20_000);
    let err: unknown;
    const t = performance.now();
    const grew = heapGrowthMb(() => {
      try {
        parseBtf(raw);
      } catch (e) {
        err = e;
      }
    });
    expect(err).toBeInstanceOf(BtfParseError);
    expect((err as Error).message).toMatch(/name at string offset 1 is 16777216 bytes long \(at most 4096\)/);
    expect(performance.now() - t).toBeLessThan(5_000);
    expect(grew).toBeLessThan(200);
  });

  it('one 4000-byte name named by 200,000 types (800 MB of names in a 4 MB blob) is refused', () => {
    const btf = repeatedNameBtf();
    expect(btf.length).toBeLessThan(3e6);
    expect(() => parseBtf(btf)).toThrow(/names add up to more than 8 bytes per byte of BTF/);
  });

  it('a name of exactly the cap parses; one byte more is refused', () => {
    const at = new BtfWriter();
    at.typedef('n'.repeat(MAX_NAME_BYTES), at.int('int'));
    expect(parseBtf(at.build()).type(2).name).toHaveLength(MAX_NAME_BYTES);
    const over = new BtfWriter();
    over.typedef('n'.repeat(MAX_NAME_BYTES + 1), over.int('int'));
    expect(() => parseBtf(over.build())).toThrow(BtfParseError);
  });

  it('non-ASCII names decode as UTF-8, also beside ASCII ones and as suffixes', () => {
    const w = new BtfWriter();
    const int = w.int('int');
    w.typedef('größe_t', int);
    w.typedef('π', int);
    w.struct('naïve', 4, [{ name: 'zählen', type: int, bitOffset: 0 }]);
    w.typedef('plain', int);
    const btf = parseBtf(w.build());
    expect(btf.types.map((t) => t.name)).toEqual(['', 'int', 'größe_t', 'π', 'naïve', 'plain']);
    expect(btf.lookupCType('struct naïve')).toBe(4);
    expect(btf.type(4)).toMatchObject({ members: [{ name: 'zählen' }] });
  });
});

describe('type loops', () => {
  it('two typedefs naming each other (59 bytes) are refused, naming the loop', () => {
    const btf = typedefLoopBtf();
    expect(btf.length).toBe(59);
    expect(() => parseBtf(btf)).toThrow(/type loop: typedef 1 'ping' → typedef 2 'pong' → back to type 1/);
  });

  it('loops through const, arrays and bare pointers are refused too', () => {
    for (const build of [
      (w: BtfWriter) => [w.array(1, 4, 2), w.int('int')], // an array whose element is itself
      (w: BtfWriter) => [w.ptr(1)], // T = T *
      (w: BtfWriter) => [w.typedef('t', 2), w.ptr(3), w.array(1, 2, 4), w.int('int')], // typedef → ptr → array → typedef
    ]) {
      const w = new BtfWriter();
      build(w);
      expect(() => parseBtf(w.build())).toThrow(/type loop/);
    }
  });

  it('loops through a struct member or a function prototype stay: that is how C links lists', () => {
    const w = new BtfWriter();
    const node = w.reserve();
    const next = w.ptr(node);
    w.struct('list_head', 8, [{ name: 'next', type: next, bitOffset: 0 }], node);
    const proto = w.funcProto(0, [{ name: 'self', type: next + 2 }]); // void (*)(itself)
    const fp = w.ptr(proto);
    w.struct('cb', 8, [{ name: 'fn', type: fp, bitOffset: 0 }]);
    const btf = parseBtf(w.build());
    expect(btf.describe(next)).toBe('struct list_head *');
    expect(btf.sizeof(node)).toBe(8);
  });
});

describe('deep but loop-free chains', () => {
  it('100,000 nested arrays and typedefs: the helpers stop at their depth instead of blowing the stack', () => {
    const w = new BtfWriter();
    const int = w.int('int');
    let id = int;
    for (let i = 0; i < 50_000; i++) id = w.typedef(`t${i}`, w.array(id, 1, int));
    const btf = parseBtf(w.build());
    expect(() => btf.sizeof(id)).toThrow(RangeError);
    expect(() => btf.resolve(id)).not.toThrow();
    expect(btf.describe(id).length).toBeLessThan(MAX_CHAIN_DEPTH * 16);
    // A shallow chain of the same shape keeps its exact answers.
    expect(btf.sizeof(2 * 10 + 1)).toBe(4);
    expect(btf.describe(3)).toBe('t0');
  });
});
