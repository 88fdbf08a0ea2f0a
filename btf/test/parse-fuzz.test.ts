/**
 * Property: any mutation of valid BTF (flipped bytes, overwritten words, cut or extended blobs,
 * rewritten header fields) either parses or is a BtfParseError, within a time bound per input and
 * without the heap growing. Seeds: a BtfWriter blob with every kind it writes, and a slice of this
 * machine's vmlinux BTF.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BtfParseError, BtfWriter, parseBtf, type Btf } from '../src/index.ts';
import { vmlinuxSlice } from '@lbc/test-support/vmlinux-slice';

function writerSeed(): Buffer {
  const w = new BtfWriter();
  const int = w.int('int');
  const char = w.int('char', 1, false);
  const node = w.reserve();
  const next = w.ptr(node);
  const comm = w.array(char, 16, int);
  w.struct('task', 32, [{ name: 'next', type: next, bitOffset: 0 }, { name: 'comm', type: comm, bitOffset: 64 }, { name: 'pid', type: int, bitOffset: 192 }], node);
  const pid = w.typedef('pid_t', int);
  const proto = w.funcProto(int, [{ name: 'pid', type: pid }, { name: 't', type: next }]);
  w.func('wake_up', proto);
  return w.build();
}

type Mutation =
  | { op: 'byte'; at: number; value: number }
  | { op: 'word'; at: number; value: number }
  | { op: 'cut'; at: number }
  | { op: 'grow'; bytes: Uint8Array };

const interesting = fc.oneof(fc.constantFrom(0, 1, 2, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 24, 12, 4096), fc.integer({ min: 0, max: 0xffffffff }));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('word' as const), at: fc.nat(), value: interesting }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('grow' as const), bytes: fc.uint8Array({ maxLength: 64 }) }) },
);

function mutate(seed: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of mutations) {
    if (m.op === 'byte' && b.length) b[m.at % b.length] = m.value;
    // Words land on 4-byte boundaries, where BTF keeps its counts, offsets and type ids.
    else if (m.op === 'word' && b.length >= 4) b.writeUInt32LE(m.value >>> 0, (m.at % (b.length >> 2)) * 4);
    else if (m.op === 'cut') b = b.subarray(0, m.at % (b.length + 1));
    else if (m.op === 'grow') b = Buffer.concat([b, m.bytes]);
  }
  return b;
}

/** What decoders do with a parsed table: every helper on every type must return or throw its own error. */
function walk(btf: Btf): void {
  for (const t of btf.types) {
    btf.describe(t.id);
    for (const helper of [() => btf.sizeof(t.id), () => btf.resolve(t.id)]) {
      try {
        helper();
      } catch (err) {
        if (!(err instanceof RangeError || err instanceof TypeError) || /call stack/.test((err as Error).message)) throw err;
      }
    }
  }
}

const PER_INPUT_MS = 2_000;

function fuzz(seed: Buffer, numRuns: number) {
  expect(() => parseBtf(seed)).not.toThrow();
  const baseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  let parsed = 0;
  let refused = 0;
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 12 }), (mutations) => {
      const input = mutate(seed, mutations);
      const t = performance.now();
      try {
        walk(parseBtf(input));
        parsed++;
      } catch (err) {
        if (!(err instanceof BtfParseError)) throw err;
        refused++;
      }
      expect(performance.now() - t).toBeLessThan(PER_INPUT_MS);
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }),
    { numRuns },
  );
  return { parsed, refused, heapGrowthMb: (peak - baseline) / 1e6 };
}

describe('fuzzing the parser', () => {
  it('mutated BtfWriter output: a parse or a BtfParseError, every time', () => {
    const r = fuzz(writerSeed(), 3_000);
    console.log(`writer seed: ${r.parsed} parsed, ${r.refused} refused, heap +${r.heapGrowthMb.toFixed(1)} MB`);
    expect(r.parsed).toBeGreaterThan(0);
    expect(r.refused).toBeGreaterThan(0);
    expect(r.heapGrowthMb).toBeLessThan(100);
  });

  it('mutated slice of this machine\'s vmlinux BTF: a parse or a BtfParseError, every time', () => {
    const seed = vmlinuxSlice(readFileSync('/sys/kernel/btf/vmlinux'), 400);
    expect(parseBtf(seed).count).toBe(400);
    const r = fuzz(seed, 1_000);
    console.log(`vmlinux slice (${seed.length} bytes): ${r.parsed} parsed, ${r.refused} refused, heap +${r.heapGrowthMb.toFixed(1)} MB`);
    expect(r.parsed).toBeGreaterThan(0);
    expect(r.refused).toBeGreaterThan(0);
    expect(r.heapGrowthMb).toBeLessThan(100);
  });
});
