/**
 * The decoder's fast paths give exactly what the plain way gives: char[N] made in JS from ASCII
 * bytes equals Buffer.toString('utf8') up to the first NUL, and arrays written out as literals or
 * filled in a loop hold the same numbers as reading element by element.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBtf, type Btf } from '@lbc/btf';
import { ElfFile } from '../src/elf/index.ts';
import { codecFor } from '../src/values/index.ts';
import { asciiFromCharCodes, decodeCString, JS_STRING_MAX } from '../src/values/c-string.ts';
import { bitSpan, readBits } from '../src/values/bitfield.ts';
import { scalarSource } from '../src/values/scalar-source.ts';
import { compileBpf } from './fixtures/maps-build.ts';

/** What char[N] decoded to before the fast path, and what it must still decode to. */
function viaToString(b: Buffer, o: number, n: number): string {
  let e = o;
  while (e < Math.min(o + n, b.length) && b[e] !== 0) e++;
  return b.toString('utf8', o, e);
}

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('char[N] → string', () => {
  it('reads ASCII up to the first NUL, in JS', () => {
    expect(decodeCString(bytes('true', [0], 'garbage'), 0, 16)).toBe('true');
    expect(decodeCString(bytes('xxtrue', [0]), 2, 16)).toBe('true');
    expect(decodeCString(bytes('\x7f\x01 ~', [0]), 0, 8)).toBe('\x7f\x01 ~');
  });

  it('gives "" for a NUL at byte 0, whatever follows', () => {
    expect(decodeCString(bytes([0], 'abc'), 0, 4)).toBe('');
    expect(decodeCString(bytes([0, 0xff, 0xfe]), 0, 3)).toBe('');
    expect(decodeCString(Buffer.alloc(0), 0, 0)).toBe('');
  });

  it('takes all N bytes when there is no NUL terminator, and no more', () => {
    const full = bytes('0123456789abcdefXYZ');
    expect(decodeCString(full, 0, 16)).toBe('0123456789abcdef');
    expect(decodeCString(full, 3, 16)).toBe('3456789abcdefXYZ');
  });

  it('stops at the end of the buffer when it is shorter than N, as Buffer.toString does', () => {
    const short = bytes('abc');
    expect(decodeCString(short, 0, 16)).toBe('abc');
    expect(decodeCString(short, 1, 16)).toBe(viaToString(short, 1, 16));
    expect(decodeCString(short, 3, 16)).toBe('');
  });

  it('decodes non-ASCII comm as exact UTF-8', () => {
    const comm = Buffer.alloc(16);
    comm.write('café-crème');
    expect(decodeCString(comm, 0, 16)).toBe('café-crème');
    const emoji = Buffer.alloc(16);
    emoji.write('run🚀x');
    expect(decodeCString(emoji, 0, 16)).toBe('run🚀x');
  });

  it('decodes embedded high bytes the way Buffer.toString does: invalid UTF-8 becomes U+FFFD', () => {
    const cases = [
      bytes('ab', [0xff], 'cd', [0]),
      bytes([0x80], 'x'),
      bytes([0x80]),
      bytes('abc', [0xc3]), // a 2-byte sequence cut off by the end of char[4]
      bytes('abc', [0xc3, 0xa9]),
      bytes([0xe2, 0x82], 'z', [0]),
      bytes('latin1 \xe9t\xe9', [0]),
    ];
    for (const c of cases) {
      expect(decodeCString(c, 0, 4)).toBe(viaToString(c, 0, 4));
      expect(decodeCString(c, 0, c.length)).toBe(viaToString(c, 0, c.length));
    }
    expect(decodeCString(bytes('ab', [0xff], 'cd'), 0, 5)).toBe('ab\ufffdcd');
  });

  it('ignores high bytes after the NUL (the string is ASCII)', () => {
    expect(decodeCString(bytes('abc', [0, 0xff, 0xc3]), 0, 6)).toBe('abc');
  });

  it('agrees with Buffer.toString at every ASCII length around the JS/C++ crossover', () => {
    for (let len = 0; len <= JS_STRING_MAX + 3; len++) {
      const b = Buffer.alloc(len + 2, 0);
      for (let i = 0; i < len; i++) b[i + 1] = 0x20 + ((i * 7) % 95);
      expect(decodeCString(b, 1, len)).toBe(viaToString(b, 1, len));
      expect(decodeCString(b, 1, len + 1)).toBe(viaToString(b, 1, len + 1)); // ends at the NUL
      expect(decodeCString(b, 1, len).length).toBe(len);
    }
  });

  it('agrees with Buffer.toString on random bytes (mostly ASCII, some NULs and high bytes)', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let round = 0; round < 5000; round++) {
      const n = rand() % 70;
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) {
        const r = rand();
        b[i] = r < 8 ? 0 : r < 24 ? 0x80 | rand() : 0x20 + (r % 95);
      }
      expect(decodeCString(b, 0, n)).toBe(viaToString(b, 0, n));
    }
  });

  it('the generated String.fromCharCode switch covers 0..max and refuses longer', () => {
    const f = asciiFromCharCodes(5);
    const b = bytes('hello world');
    expect([0, 1, 5].map((n) => f(b, 6, n))).toEqual(['', 'w', 'world']);
    expect(() => f(b, 0, 6)).toThrow(RangeError);
  });
});

const SHAPES = `
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef long long s64;
struct pair { u16 a; u8 b; };
struct stamp { unsigned long long ts; u32 pid; };
struct shapes {
	char comm[16];
	unsigned char ucomm[8];
	char path[64];
	u8 pad[40];
	u8 big[300];
	u32 words[20];
	s64 wide[3];
	struct pair few[2];
	struct pair pairs[10];
	u32 grid[3][12];
	s64 deep[260];
	struct stamp stamps[9];
	float f;
	double df;
	u8 none[0];
};
struct shapes sample;
`;

interface Pair {
  a: number;
  b: number;
}

describe('arrays and strings inside a struct (clang-16 BTF)', () => {
  let btf: Btf;
  let shapes: number;
  beforeAll(() => {
    btf = parseBtf(new ElfFile(compileBpf('decode-shapes', SHAPES)).sectionData('.BTF')!);
    shapes = btf.lookupCType('struct shapes')!;
  });

  /** Offsets as the C above lays them out (checked against BTF below). */
  const at = { comm: 0, ucomm: 16, path: 24, pad: 88, big: 128, words: 428, wide: 512, few: 536, pairs: 544, grid: 584, deep: 728, stamps: 2808, f: 2952, df: 2960, size: 2968 };

  /** The same struct read field by field with Buffer methods, the plain way. */
  function reference(b: Buffer, o: number) {
    const u8s = (off: number, n: number) => Array.from({ length: n }, (_, i) => b[o + off + i]!);
    const pair = (off: number): Pair => ({ a: b.readUInt16LE(o + off), b: b[o + off + 2]! });
    return {
      comm: viaToString(b, o + at.comm, 16),
      ucomm: viaToString(b, o + at.ucomm, 8),
      path: viaToString(b, o + at.path, 64),
      pad: u8s(at.pad, 40),
      big: u8s(at.big, 300),
      words: Array.from({ length: 20 }, (_, i) => b.readUInt32LE(o + at.words + 4 * i)),
      wide: Array.from({ length: 3 }, (_, i) => b.readBigInt64LE(o + at.wide + 8 * i)),
      few: [pair(at.few), pair(at.few + 4)],
      pairs: Array.from({ length: 10 }, (_, i) => pair(at.pairs + 4 * i)),
      grid: Array.from({ length: 3 }, (_, r) => Array.from({ length: 12 }, (_, c) => b.readUInt32LE(o + at.grid + 48 * r + 4 * c))),
      deep: Array.from({ length: 260 }, (_, i) => b.readBigInt64LE(o + at.deep + 8 * i)),
      stamps: Array.from({ length: 9 }, (_, i) => ({ ts: b.readBigUInt64LE(o + at.stamps + 16 * i), pid: b.readUInt32LE(o + at.stamps + 16 * i + 8) })),
      f: b.readFloatLE(o + at.f),
      df: b.readDoubleLE(o + at.df),
      none: [],
    };
  }

  function filled(offset: number, fill: (b: Buffer, o: number) => void): Buffer {
    const b = Buffer.alloc(offset + at.size + 16, 0xee); // bytes around the struct are not its own
    b.fill(0, offset, offset + at.size);
    for (let i = at.pad; i < at.words; i++) b[offset + i] = (i * 31) & 0xff;
    for (let i = at.words; i < at.f; i++) b[offset + i] = (i * 131 + 7) & 0xff;
    b.writeFloatLE(-1.25, offset + at.f);
    b.writeDoubleLE(Math.PI, offset + at.df);
    fill(b, offset);
    return b;
  }

  it('lays the struct out as the reference assumes', () => {
    expect(btf.sizeof(shapes)).toBe(at.size);
    const t = btf.resolve(shapes);
    if (t.kind !== 'struct') throw new Error('struct shapes is not a struct');
    expect(Object.fromEntries(t.members.map((m) => [m.name, m.bitOffset / 8]))).toEqual({
      comm: at.comm, ucomm: at.ucomm, path: at.path, pad: at.pad, big: at.big, words: at.words, wide: at.wide, few: at.few, pairs: at.pairs, grid: at.grid,
      deep: at.deep, stamps: at.stamps, f: at.f, df: at.df, none: at.size,
    });
  });

  it('decodes every array shape to the numbers read one by one, with the same JS types', () => {
    const codec = codecFor(btf, shapes);
    for (const offset of [0, 72, 13]) {
      const b = filled(offset, (b, o) => {
        b.write('true', o + at.comm);
        b.write('bytes!!!', o + at.ucomm); // no NUL: all 8
        b.write('/usr/lib/x86_64-linux-gnu/libc.so.6 and a long path beyond 40', o + at.path);
      });
      const got = codec.decode(b, offset) as ReturnType<typeof reference>;
      expect(got).toEqual(reference(b, offset));
      expect(got.comm).toBe('true');
      expect(got.ucomm).toBe('bytes!!!');
      expect(got.path.length).toBeGreaterThan(JS_STRING_MAX);
      expect(got.none).toEqual([]);
      for (const arr of [got.pad, got.big, got.words, got.wide, got.few, got.pairs, got.grid, got.grid[2]!]) expect(Array.isArray(arr)).toBe(true);
      expect(got.pad.every((v) => typeof v === 'number') && got.big.every((v) => typeof v === 'number')).toBe(true);
      expect([...got.wide, ...got.deep, ...got.stamps.map((s) => s.ts)].every((v) => typeof v === 'bigint')).toBe(true);
      expect([got.f, got.df]).toEqual([-1.25, Math.PI]);
      expect(got.big).toHaveLength(300);
      expect(got.pairs).toHaveLength(10);
    }
  });

  it('decodes non-ASCII, unterminated and empty strings inside the struct like Buffer.toString', () => {
    const codec = codecFor(btf, shapes);
    const b = filled(0, (b) => {
      b.write('café-crème', at.comm);
      Buffer.from([0x61, 0xff, 0x62, 0x80, 0x63, 0xc3, 0xa9, 0xc3]).copy(b, at.ucomm); // high bytes, a sequence cut at the end
      b.fill(0x41, at.path, at.path + 64); // 64 × 'A', no NUL
    });
    const got = codec.decode(b) as ReturnType<typeof reference>;
    expect(got).toEqual(reference(b, 0));
    expect(got.comm).toBe('café-crème');
    expect(got.ucomm).toBe(b.toString('utf8', at.ucomm, at.ucomm + 8));
    expect(got.path).toBe('A'.repeat(64));
    b[at.comm] = 0;
    expect((codec.decode(b) as { comm: string }).comm).toBe('');
  });

  it('gives each record arrays of its own (no storage shared between decodes)', () => {
    const codec = codecFor(btf, shapes);
    const b = filled(0, () => {});
    const first = codec.decode(b) as ReturnType<typeof reference>;
    b.fill(1, at.pad, at.size);
    const second = codec.decode(b) as ReturnType<typeof reference>;
    expect(first).toEqual(reference(filled(0, () => {}), 0));
    expect(second.pad[0]).toBe(1);
    expect(second.pairs[9]).toEqual({ a: 0x0101, b: 1 });
    expect(first.pad).not.toBe(second.pad);
  });
});

describe('where the decoder reads', () => {
  let btf: Btf;
  let shapes: number;
  beforeAll(() => {
    btf = parseBtf(new ElfFile(compileBpf('decode-shapes', SHAPES)).sectionData('.BTF')!);
    shapes = btf.lookupCType('struct shapes')!;
  });

  it('refuses a value that does not lie wholly inside the buffer, naming the type and sizes', () => {
    const codec = codecFor(btf, shapes);
    const b = Buffer.alloc(codec.size + 8);
    expect(() => codec.decode(b, 9)).toThrow(new RangeError(`cannot decode struct shapes (${codec.size} bytes) at offset 9 of a ${codec.size + 8}-byte buffer`));
    expect(() => codec.decode(b.subarray(0, codec.size - 1))).toThrow(RangeError);
    expect(() => codec.decode(b, -1)).toThrow(RangeError);
    expect(() => codec.decode(b, 8)).not.toThrow();
  });

  it('reads a Buffer that starts inside a bigger ArrayBuffer at its own offset, buffer after buffer', () => {
    const codec = codecFor(btf, shapes);
    const size = codec.size;
    // Two ArrayBuffers, each holding the value at an odd offset, different bytes either side.
    const make = (seed: number) => {
      const ab = new ArrayBuffer(size + 64);
      new Uint8Array(ab).fill(seed);
      const view = Buffer.from(ab, 13, size);
      for (let i = 0; i < size; i++) view[i] = (i * seed + 3) & 0xff;
      return view;
    };
    const one = make(7);
    const two = make(11);
    const plain = (v: Buffer) => codec.decode(Buffer.from(v)); // the same bytes in a Buffer of their own
    for (const v of [one, two, one, two.subarray(0, size), one]) expect(codec.decode(v)).toEqual(plain(v));
    const bigger = Buffer.concat([Buffer.alloc(5), two]);
    expect(codec.decode(bigger, 5)).toEqual(plain(two));
  });
});

describe('bitfields of up to 32 bits in up to 4 bytes, read as numbers', () => {
  it('agree with bitfield.ts readBits for every offset and width, signed or not, either byte order', () => {
    const b = Buffer.alloc(12);
    let seed = 7;
    for (let i = 0; i < b.length; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    let checked = 0;
    for (const le of [true, false]) {
      const source = scalarSource(le);
      for (let bitOffset = 0; bitOffset < 40; bitOffset++) {
        for (let bits = 1; bits <= 32; bits++) {
          const span = bitSpan(bitOffset, bits, le);
          for (const signed of [false, true]) {
            const expr = source.bits(span, signed);
            if (span.bytes > 4) {
              expect(expr).toBeUndefined();
              continue;
            }
            const read = new Function('b', 'o', `return ${expr};`) as (b: Buffer, o: number) => number;
            for (const pattern of [b, Buffer.alloc(12, 0xff), Buffer.alloc(12, 0), Buffer.from([0x80, 1, 0x7f, 0xfe, 0x55, 0xaa, 0x01, 0x80, 0xc3, 0x3c, 0x81, 0x18])]) {
              expect(read(pattern, 1)).toBe(Number(readBits(pattern, 1, span, signed, le)));
            }
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });

  it('decode a packed clang-16 struct, fields straddling bytes and a 5-byte span, in both byte orders', () => {
    const source = `
typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;
struct __attribute__((packed)) flags {
	u8 lead : 3;
	u32 five_bytes : 32;
	u32 a : 1, b : 7, c : 9;
	int neg : 13;
	u32 full : 32;
	u64 wide : 40;
	u8 tail;
};
struct flags sample;
`;
    for (const bigEndian of [false, true]) {
      const btf = parseBtf(new ElfFile(compileBpf(bigEndian ? 'decode-flags-be' : 'decode-flags', source, { bigEndian })).sectionData('.BTF')!);
      const codec = codecFor(btf, btf.lookupCType('struct flags')!, { littleEndian: !bigEndian });
      const value = { lead: 5, five_bytes: 0xdeadbeef, a: 1, b: 0x55, c: 0x1a5, neg: -1234, full: 0x80000001, wide: 0xabcdef1234n, tail: 0x99 };
      const bytes = codec.encode(value);
      expect(codec.decode(bytes)).toEqual(value);
      expect(codec.decode(codec.encode({ ...value, neg: 4095, b: 0, full: 0 }))).toEqual({ ...value, neg: 4095, b: 0, full: 0 });
    }
  });
});

describe('big structs', () => {
  it('write out only so many array elements, so the decoder stays small enough for V8 to optimise', () => {
    const fields = Array.from({ length: 20 }, (_, i) => `\tunsigned char a${i}[256];`).join('\n');
    const btf = parseBtf(new ElfFile(compileBpf('decode-big', `struct big {\n${fields}\n\tunsigned int w[200];\n};\nstruct big sample;\n`)).sectionData('.BTF')!);
    const codec = codecFor(btf, btf.lookupCType('struct big')!);
    const b = Buffer.alloc(codec.size);
    for (let i = 0; i < b.length; i++) b[i] = (i * 13) & 0xff;
    const got = codec.decode(b) as Record<string, unknown>;
    const want: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) want[`a${i}`] = viaToString(b, 256 * i, 256); // unsigned char[N] is a string
    want.w = Array.from({ length: 200 }, (_, i) => b.readUInt32LE(5120 + 4 * i));
    expect(got).toEqual(want);

    const bytesBtf = parseBtf(new ElfFile(compileBpf('decode-big-bytes', `typedef unsigned char u8;\nstruct big {\n${fields.replaceAll('unsigned char', 'u8')}\n};\nstruct big sample;\n`)).sectionData('.BTF')!);
    const bytesCodec = codecFor(bytesBtf, bytesBtf.lookupCType('struct big')!);
    const values = bytesCodec.decode(b) as Record<string, number[]>;
    for (let i = 0; i < 20; i++) expect(values[`a${i}`]).toEqual(Array.from(b.subarray(256 * i, 256 * (i + 1))));
    // 5120 elements written out would make a ~70 kB function that V8 never optimises (~20x slower).
    expect(bytesCodec.decode.toString().length).toBeLessThan(20_000);
  });
});

describe('the DataView a decoder keeps for 64-bit fields', () => {
  it('does not keep the buffer it last decoded alive past the current task', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const btf = parseBtf(new ElfFile(compileBpf('decode-stamp', 'struct stamp { unsigned long long ts; unsigned int pid; };\nstruct stamp sample;\n')).sectionData('.BTF')!);
    const codec = codecFor(btf, btf.lookupCType('struct stamp')!);
    const decodeOnce = (): WeakRef<ArrayBuffer> => {
      const storage = new ArrayBuffer(1 << 20);
      const b = Buffer.from(storage, 8, 16);
      b.writeBigUInt64LE(1234567890123n, 0);
      expect(codec.decode(b)).toEqual({ ts: 1234567890123n, pid: 0 });
      expect(codec.decode(Buffer.from(storage, 0, 24), 8)).toEqual({ ts: 1234567890123n, pid: 0 }); // same storage, view reused
      return new WeakRef(storage);
    };
    const storage = decodeOnce();
    for (let i = 0; i < 5 && storage.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(storage.deref()).toBeUndefined();
  });
});

describe('element kinds in literals and loops', () => {
  it('decodes structs with u64s, bools, enums, pointers and floats as array elements like reading them one by one', () => {
    const source = `
enum color { RED = 1, GREEN = 2 };
struct stamp { unsigned long long ts; unsigned int pid; };
struct misc {
	struct stamp two[2];
	_Bool flags[3];
	enum color colors[300];
	void *ptrs[260];
	float fl[2];
};
struct misc sample;
`;
    const btf = parseBtf(new ElfFile(compileBpf('decode-misc', source)).sectionData('.BTF')!);
    const codec = codecFor(btf, btf.lookupCType('struct misc')!);
    const at = { two: 0, flags: 32, colors: 36, ptrs: 1240, fl: 3320, size: 3328 };
    expect(codec.size).toBe(at.size);
    for (const offset of [0, 5]) {
      const b = Buffer.alloc(offset + at.size);
      const o = offset;
      for (let i = 0; i < 2; i++) {
        b.writeBigUInt64LE(0xfedcba9876543210n + BigInt(i), o + 16 * i);
        b.writeUInt32LE(7 + i, o + 16 * i + 8);
      }
      b[o + at.flags + 1] = 2;
      for (let i = 0; i < 300; i++) b.writeUInt32LE(i % 4, o + at.colors + 4 * i);
      for (let i = 0; i < 260; i++) b.writeBigUInt64LE(0xffff888000000000n + BigInt(i * 4096), o + at.ptrs + 8 * i);
      b.writeFloatLE(0.5, o + at.fl);
      b.writeFloatLE(-3, o + at.fl + 4);
      expect(codec.decode(b, offset)).toEqual({
        two: [0, 1].map((i) => ({ ts: 0xfedcba9876543210n + BigInt(i), pid: 7 + i })),
        flags: [false, true, false],
        colors: Array.from({ length: 300 }, (_, i) => [0, 'RED', 'GREEN', 3][i % 4]),
        ptrs: Array.from({ length: 260 }, (_, i) => 0xffff888000000000n + BigInt(i * 4096)),
        fl: [0.5, -3],
      });
    }
  });
});
