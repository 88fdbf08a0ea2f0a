import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { loadNative } from '../src/native/index.ts';
import type { NativeAddon } from '../src/native/types.ts';
import { formatLog10Hist, formatLog2Hist } from '../src/maps/index.ts';
import { loadKernelFixture, type LoadedFixture } from './fixtures/maps-kernel.ts';
import { privateTrue } from '@lbc/test-support/private-true';

let f: LoadedFixture;
let nativeCalls = 0;

beforeAll(() => {
  // Counts every native call, to prove type errors are raised before the kernel is touched.
  const real = loadNative();
  const counting = new Proxy(real, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' && String(prop).startsWith('map') ? (...args: unknown[]) => (nativeCalls++, v.apply(target, args)) : v;
    },
  }) as NativeAddon;
  f = loadKernelFixture(counting);
});
afterAll(() => f?.close());

describe('typed maps against the real kernel', () => {
  it('lists the object\'s maps with their C types', () => {
    expect(Object.keys(f.maps).sort()).toEqual(['e_out', 'exec_count', 'pairs', 'pcpu', 'pcpu_hash', 'raw_rb', 'rb', 'slots', 'stacks']);
    expect(f.maps.exec_count.keyType).toBe('struct comm_key');
    expect(f.maps.exec_count.valueType).toBe('u64');
    expect(f.maps.e_out.eventType).toBe('struct event');
    expect(f.maps.rb.eventType).toBe('struct event');
    expect(f.maps.raw_rb.eventType).toBeUndefined();
    expect(f.maps.pcpu.perCpu).toBe(true);
  });

  it('hash: set/get/delete/keys/entries/getAll/getThenClear/clear with struct keys', () => {
    const m = f.maps.exec_count;
    m.clear();
    m.set({ comm: 'alpha' }, 1n);
    m.set({ comm: 'beta' }, 22);
    expect(m.get({ comm: 'alpha' })).toBe(1n);
    expect(m.get({ comm: 'gamma' })).toBeUndefined();
    expect((m.keys() as { comm: string }[]).map((k) => k.comm).sort()).toEqual(['alpha', 'beta']);
    expect(new Map(m.entries().map(([k, v]) => [(k as { comm: string }).comm, v]))).toEqual(new Map([['alpha', 1n], ['beta', 22n]]));
    expect(m.delete({ comm: 'alpha' })).toBe(true);
    expect(m.delete({ comm: 'alpha' })).toBe(false);
    expect(m.getAll()).toEqual([{ key: { comm: 'beta' }, value: 22n }]);
    expect(m.getThenClear()).toEqual([{ key: { comm: 'beta' }, value: 22n }]);
    expect(m.keys()).toEqual([]);
    m.set({ comm: 'x' }, 1);
    m.clear();
    expect(m.getAll()).toEqual([]);
  });

  it('refuses flags the entry state contradicts, as LBC_ERR_MAP_OP with errno', () => {
    const m = f.maps.slots;
    m.set(1, 1);
    try {
      m.set(1, 2, 'noexist');
      expect.unreachable();
    } catch (err) {
      expect(isLbcError(err, 'LBC_ERR_MAP_OP')).toBe(true);
      expect((err as { details?: { errno?: number } }).details?.errno).toBe(17); // EEXIST
    }
    m.clear();
  });

  it('array: every index exists, values are structs, clear zeroes', () => {
    const m = f.maps.pairs;
    expect(m.keys()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    m.set(3, { a: 7, b: -9n });
    expect(m.get(3)).toEqual({ a: 7, b: -9n });
    expect(m.get(8)).toBeUndefined();
    m.clear();
    expect(m.get(3)).toEqual({ a: 0, b: 0n });
  });

  it('per-CPU: one value per possible CPU, both ways', () => {
    const cpus = f.native.numPossibleCpus();
    const m = f.maps.pcpu_hash;
    const values = Array.from({ length: cpus }, (_, i) => BigInt(i + 10));
    m.set(5, values);
    expect(m.get(5)).toEqual(values);
    expect(() => m.set(5, 1n)).toThrow(new RegExp(`needs an array of ${cpus} values`));
    expect(f.maps.pcpu.get(0)).toHaveLength(cpus);
    m.clear();
  });

  it('throws TypeError naming the path on wrong keys and values, before any native call', () => {
    const before = nativeCalls;
    expect(() => f.maps.exec_count.get({ pid: 1 })).toThrow(TypeError);
    expect(() => f.maps.exec_count.get({ pid: 1 })).toThrow(/key: struct comm_key has no member "pid"/);
    expect(() => f.maps.exec_count.get('true')).toThrow(/key: expected object \(struct comm_key\), got string/);
    expect(() => f.maps.exec_count.set({ comm: 'ok' }, 'many')).toThrow(/value: expected integer, got string/);
    expect(() => f.maps.pairs.set(0, { a: -1, b: 0 })).toThrow(/value\.a: -1 is out of range for u32/);
    expect(() => f.maps.slots.get(2 ** 32)).toThrow(/key: 4294967296 is out of range/);
    expect(() => f.maps.pairs.get(-1)).toThrow(TypeError);
    expect(nativeCalls).toBe(before);
  });

  it('buffers and stacks say which operations they have', () => {
    expect(() => f.maps.rb.get(0)).toThrow(/rb is a ringbuf map: it has no entries to read; use openRingBuffer/);
    expect(() => f.maps.e_out.openRingBuffer(() => undefined)).toThrow(/openRingBuffer\(\) needs a ringbuf map; e_out is perf_event_array/);
    expect(() => f.maps.pairs.stacks(0)).toThrow(/not a stack_trace map/);
  });

  it('counts execs of a true(1) binary in the hash keyed by comm', () => {
    f.attach();
    const tru = privateTrue();
    expect(f.maps.exec_count.get({ comm: tru.comm })).toBeUndefined();
    for (let i = 0; i < 3; i++) execFileSync(tru.path);
    expect(Number(f.maps.exec_count.get({ comm: tru.comm }))).toBe(3);
    const perCpu = f.maps.pcpu.get(0) as bigint[];
    expect(perCpu.reduce((a, b) => a + b, 0n)).toBeGreaterThanOrEqual(3n);
  });
});

describe('log2 histograms', () => {
  it('sums slot-keyed counts and prints them like bcc', () => {
    const m = f.maps.slots;
    m.clear();
    m.set(0, 1n);
    m.set(1, 4n);
    m.set(3, 8n);
    expect(m.hist()).toEqual([1, 4, 0, 8]);
    expect(m.showHist({ label: 'usecs' })).toBe(
      [
        '     usecs               : count     distribution',
        '         0 -> 1          : 1        |*****                                   |',
        '         2 -> 3          : 4        |********************                    |',
        '         4 -> 7          : 0        |                                        |',
        '         8 -> 15         : 8        |****************************************|',
        '',
      ].join('\n'),
    );
    m.clear();
    expect(m.showHist()).toBe('');
  });

  it('takes whole-histogram values and switches to the wide layout past slot 32', () => {
    const slots = Array.from({ length: 40 }, (_, i) => (i === 39 ? 2 : 0));
    const text = formatLog2Hist(slots, 'bytes');
    expect(text.split('\n')[0]).toBe(`${' '.repeat(15)}${'bytes'.padEnd(29)} : count     distribution`);
    expect(text).toContain('549755813888 -> 1099511627775');
  });
});

describe('log10 histograms', () => {
  it('print one row per decade, slot 0 holding 0 to 9', () => {
    expect(formatLog10Hist([2, 0, 4], 'ns')).toBe(
      [
        '     ns                  : count     distribution',
        '         0 -> 9          : 2        |********************                    |',
        '        10 -> 99         : 0        |                                        |',
        '       100 -> 999        : 4        |****************************************|',
        '',
      ].join('\n'),
    );
    expect(formatLog10Hist(Array(20).fill(0))).toBe('');
    expect(formatLog10Hist([...Array(19).fill(0), 1])).toContain('10000000000000000000 -> 99999999999999999999');
  });
});
