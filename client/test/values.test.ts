import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBtf, type Btf } from '@lbc/btf';
import { ElfFile } from '../src/elf/index.ts';
import { codecFor } from '../src/values/index.ts';
import { compileBpf } from './fixtures/maps-build.ts';

const source = readFileSync(new URL('./fixtures/maps-types.bpf.c', import.meta.url), 'utf8');

interface Compiled {
  btf: Btf;
  /** Bytes clang wrote for the `sample` global. */
  sampleBytes: Buffer;
  everything: number;
  inner: number;
}

function load(bigEndian: boolean): Compiled {
  const elf = new ElfFile(compileBpf(bigEndian ? 'maps-types-be' : 'maps-types', source, { bigEndian }));
  const btf = parseBtf(elf.sectionData('.BTF')!);
  const data = btf.findByName('.data', 'datasec')[0];
  const sampleVar = data.vars.find((v) => btf.type(v.type).name === 'sample')!;
  const bytes = elf.sectionData('.data')!.subarray(sampleVar.offset, sampleVar.offset + sampleVar.size);
  return { btf, sampleBytes: Buffer.from(bytes), everything: btf.lookupCType('struct everything')!, inner: btf.lookupCType('struct inner')! };
}

/** What the C initialiser in maps-types.bpf.c says, as the codec should present it. */
const expected = {
  name: 'hello',
  uname: 'bytes',
  bytes: [1, 2, 3, 250],
  s8v: -5,
  u8v: 200,
  s16v: -300,
  u16v: 60000,
  s32v: -70000,
  u32v: 4000000000,
  s64v: -5000000000n,
  u64v: 18000000000000000000n,
  flag: true,
  color: 'BLUE',
  unnamed_color: 7,
  wide: 'WIDE_A',
  ptr: 0xffff888012345678n,
  f: 1.5,
  d: -2.25,
  in: { port: 8080, addr: [127, 0, 0, 1] },
  ins: [{ port: 1, addr: [1, 1, 1, 1] }, { port: 2, addr: [2, 2, 2, 2] }],
  many: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  word: 0x04030201,
  octets: [1, 2, 3, 4],
  named: { q: 0x1122334455667788n, halves: [0x55667788, 0x11223344] },
  bf_a: 5,
  bf_b: 17,
  bf_neg: -3,
  bf_color: 'GREEN',
  bf_wide: 0xabcdef1234n,
  grid: ['row0', 'row1'],
};

describe.each([false, true])('codec on clang-16 BTF (big endian: %s)', (bigEndian) => {
  let c: Compiled;
  beforeAll(() => {
    c = load(bigEndian);
  });

  const expectedHere = () => {
    if (!bigEndian) return expected;
    // The anonymous union and `named` are views of the same bytes: on big endian they read the other way round.
    return { ...expected, octets: [4, 3, 2, 1], named: { q: 0x1122334455667788n, halves: [0x11223344, 0x55667788] } };
  };

  it('decodes the bytes clang laid out for the initialised global', () => {
    const codec = codecFor(c.btf, c.everything, { littleEndian: !bigEndian });
    expect(codec.size).toBe(c.sampleBytes.length);
    expect(codec.decode(c.sampleBytes)).toEqual(expectedHere());
  });

  it('encodes the same JS value to exactly clang\'s bytes', () => {
    const codec = codecFor(c.btf, c.everything, { littleEndian: !bigEndian });
    const { word: _w, named, ...rest } = expectedHere();
    // One view per union is enough to encode it.
    const encoded = codec.encode({ ...rest, named: { q: named.q } });
    expect(encoded.toString('hex')).toBe(c.sampleBytes.toString('hex'));
  });

  it('round-trips a decoded value', () => {
    const codec = codecFor(c.btf, c.everything, { littleEndian: !bigEndian });
    const decoded = codec.decode(c.sampleBytes);
    expect(codec.decode(codec.encode(decoded))).toEqual(decoded);
  });
});

describe('strict encoding', () => {
  let c: Compiled;
  beforeAll(() => {
    c = load(false);
  });
  const enc = (value: unknown, type: 'inner' | 'everything' = 'inner') => () => codecFor(c.btf, c[type]).encode(value, 'key');

  it('names the path of a wrong member type', () => {
    expect(enc({ port: 'x', addr: [1, 2, 3, 4] })).toThrow(new TypeError('key.port: expected integer, got string'));
    expect(enc({ port: 1, addr: [1, 2, 3, 'a'] })).toThrow(/^key\.addr\[3\]: expected integer, got string$/);
  });

  it('rejects wrong shapes: missing, unknown, wrong length, not an object', () => {
    expect(enc({ port: 1 })).toThrow(/key\.addr: missing/);
    expect(enc({ port: 1, addr: [1, 2, 3, 4], extra: 1 })).toThrow(/key: struct inner has no member "extra"/);
    expect(enc({ port: 1, addr: [1, 2, 3] })).toThrow(/key\.addr: expected array of 4, got array of 3/);
    expect(enc(42)).toThrow(/key: expected object \(struct inner\), got number/);
  });

  it('rejects out-of-range integers and unknown enumerators', () => {
    expect(enc({ port: 65536, addr: [1, 2, 3, 4] })).toThrow(/key\.port: 65536 is out of range for u16/);
    expect(enc({ port: -1, addr: [1, 2, 3, 4] })).toThrow(/out of range/);
    expect(enc({ port: 1.5, addr: [1, 2, 3, 4] })).toThrow(/expected integer, got number/);
    const good = codecFor(c.btf, c.everything).decode(c.sampleBytes) as Record<string, unknown>;
    expect(enc({ ...good, color: 'PURPLE' }, 'everything')).toThrow(/key\.color: "PURPLE" is not an enumerator of enum color/);
    expect(enc({ ...good, bf_a: 8 }, 'everything')).toThrow(/key\.bf_a: 8 is out of range/);
    expect(enc({ ...good, name: 'x'.repeat(17) }, 'everything')).toThrow(/key\.name: 17 bytes do not fit char\[16\]/);
    const { word: _w, octets: _o, ...noUnion } = good;
    expect(enc(noUnion, 'everything')).toThrow(/key: struct everything needs one of word, octets/);
  });

  it('accepts numbers or bigints for 64-bit and enumerator values by number', () => {
    const good = codecFor(c.btf, c.everything).decode(c.sampleBytes) as Record<string, unknown>;
    const codec = codecFor(c.btf, c.everything);
    const out = codec.decode(codec.encode({ ...good, s64v: -1, color: 2, bytes: Buffer.from([9, 8, 7, 6]) })) as Record<string, unknown>;
    expect(out.s64v).toBe(-1n);
    expect(out.color).toBe('GREEN');
    expect(out.bytes).toEqual([9, 8, 7, 6]);
  });
});

describe('decode speed', () => {
  it('decodes a 24-byte event struct at well over 1M/s', () => {
    const { btf, inner } = load(false);
    const codec = codecFor(btf, inner);
    const buf = codec.encode({ port: 80, addr: [10, 0, 0, 1] });
    const n = 2_000_000;
    let sink = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += (codec.decode(buf) as { port: number }).port;
    const perSec = n / (Number(process.hrtime.bigint() - t0) / 1e9);
    expect(sink).toBe(80 * n);
    console.log(`decode struct inner: ${(perSec / 1e6).toFixed(1)} M/s`);
    expect(perSec).toBeGreaterThan(1e6);
  });
});
