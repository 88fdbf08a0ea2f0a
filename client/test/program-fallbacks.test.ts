/**
 * libbpf-tools style fallbacks: a fentry program and its tracepoint twin, one of which is turned
 * off before load by probing the kernel; and the ring buffer → perf buffer choice. The selection
 * logic runs with probe answers injected (both ways), then with this kernel's real answers
 * (no trampolines, ring buffers yes).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { findTwins, planFallbacks, probeKernelFeatures, type Lbc, type ProgramFacts } from '../src/index.ts';
import { loadNative } from '../src/native/index.ts';
import { loadedProgramNames } from '@lbc/test-support/native-fixtures';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { cachedLbc } from './object-setup-support.ts';

const env = useNativeFixtures();
let cacheDir: string;
beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lbc-fallback-cache-'));
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const prog = (name: string, section: string, autoload = true): ProgramFacts => ({ name, section, autoload });
const kernel = (trampolines: boolean) => ({ trampoline: () => trampolines });

describe('which twin runs (probe answers injected)', () => {
  const programs = [
    prog('open_fentry', 'fentry/do_sys_openat2'),
    prog('open_tp', 'tracepoint/syscalls/sys_enter_openat'),
    prog('read_exit', 'fexit/vfs_read'),
    prog('read_ret', 'kretprobe/vfs_read'),
    prog('read_entry', 'kprobe/vfs_read'),
    prog('lonely', 'fentry/vfs_write'),
    prog('other_tp', 'tracepoint/sched/sched_switch'),
  ];

  it('pairs by name stem and by kernel function (fentry↔kprobe, fexit↔kretprobe)', () => {
    expect(Object.fromEntries(findTwins(programs))).toEqual({ open_fentry: ['open_tp'], read_exit: ['read_ret'] });
    expect(Object.fromEntries(findTwins(programs, { lonely: 'other_tp' }))).toEqual({ lonely: ['other_tp'], open_fentry: ['open_tp'], read_exit: ['read_ret'] });
  });

  it('without trampolines the fentry/fexit side is turned off; a program without a twin is left to fail clearly', () => {
    expect(planFallbacks(programs, kernel(false)).map((d) => [d.prog, d.instead])).toEqual([
      ['open_fentry', 'open_tp'],
      ['read_exit', 'read_ret'],
    ]);
  });

  it('with trampolines the kprobe/tracepoint twins are turned off instead', () => {
    const asked: string[] = [];
    const decisions = planFallbacks(programs, { trampoline: (func, kind) => (asked.push(`${kind}:${func}`), true) });
    expect(decisions.map((d) => [d.prog, d.instead])).toEqual([
      ['open_tp', 'open_fentry'],
      ['read_ret', 'read_exit'],
    ]);
    expect(asked).toEqual(['fentry:do_sys_openat2', 'fexit:vfs_read']);
  });

  it('programs already set not to load are not chosen between', () => {
    const off = [prog('open_fentry', 'fentry/do_sys_openat2'), prog('open_tp', 'tracepoint/syscalls/sys_enter_openat', false)];
    expect(planFallbacks(off, kernel(false))).toEqual([]);
  });
});

describe('on this kernel', () => {
  it('the probes answer: no fentry on do_nanosleep (no trampolines), ring buffers yes', () => {
    const features = probeKernelFeatures(loadNative());
    expect(features.trampoline('do_nanosleep', 'fentry')).toBe(false);
    expect(features.ringbuf()).toBe(true);
  });

  it('a fentry program with a tracepoint twin loads, the fentry side turned off automatically', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'twins', 'twins').ready;
    try {
      expect(lbc.fallbacks).toEqual([
        { prog: 'lbct_nap_fentry', instead: 'lbct_nap_tp', reason: 'this kernel cannot attach fentry programs on do_nanosleep (no BPF trampoline for it)' },
      ]);
      expect(lbc.programs.lbct_nap_fentry!.autoload).toBe(false);
      const loaded = loadedProgramNames();
      expect(loaded).toContain('lbct_nap_tp');
      expect(loaded).not.toContain('lbct_nap_fentry');
      const child = spawn('sleep', ['0.01']);
      await once(child, 'exit');
      for (let i = 0; i < 50 && lbc.bss.naps_tp === 0n; i++) await sleep(10);
      expect(lbc.bss.naps_tp as bigint).toBeGreaterThan(0n);
      expect(lbc.bss.naps_fentry).toBe(0n);
    } finally {
      lbc.close();
    }
  });

  it('with fallbacks: false the same object fails to load, naming fentry and the alternatives', async () => {
    const err = await cachedLbc(env.fixtures, cacheDir, 'twins', 'twins', { fallbacks: false }).ready.catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_ATTACH_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toContain('lbct_nap_fentry');
  });
});

describe('ring buffer → perf buffer', () => {
  async function eventsFrom(lbc: Lbc, map: string, calls: number): Promise<number[]> {
    const child = spawn(env.workload, [String(calls), 'wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
    lbc.rodata.target_pid = child.pid!;
    await lbc.load();
    await lbc.attach();
    const seqs: number[] = [];
    const stream = lbc.maps[map]!;
    const close = stream.type === 27
      ? stream.openRingBuffer((_e: unknown, raw: Buffer) => seqs.push(raw.readUInt32LE(4)))
      : stream.openPerfBuffer((_e: unknown, raw: Buffer) => seqs.push(raw.readUInt32LE(4)), undefined, { pageCount: 1 });
    const exited = once(child, 'exit');
    child.stdin!.end('go\n');
    await exited;
    for (let i = 0; i < 100 && seqs.length < calls; i++) await sleep(20);
    close.close();
    return seqs;
  }

  it('probe answer injected "no ring buffer": the perf event array twin carries the events, the ring is not created', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'buffers', 'buffer-fallback', { load: false }).ready;
    try {
      expect(lbc.chooseEventBuffer({}, { ringbuf: false })).toEqual({ map: 'events_perf', kind: 'perf' });
      expect(lbc.rodata.use_ringbuf).toBe(false);
      expect(await eventsFrom(lbc, 'events_perf', 5)).toEqual([0, 1, 2, 3, 4]);
      expect(lbc.maps.events!.fd).toBe(-1);
      expect(lbc.maps.events_perf!.id).toBeGreaterThan(0);
    } finally {
      lbc.close();
    }
  });

  it('the real probe picks the ring buffer here; its perf twin is not created', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'buffers', 'buffer-fallback', { load: false }).ready;
    try {
      expect(lbc.chooseEventBuffer()).toEqual({ map: 'events', kind: 'ringbuf' });
      expect(await eventsFrom(lbc, 'events', 5)).toEqual([0, 1, 2, 3, 4]);
      expect(lbc.maps.events_perf!.fd).toBe(-1);
    } finally {
      lbc.close();
    }
  });

  it('an object without the twin maps is told which map is missing', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'buffers', 'buffer-fallback', { load: false }).ready;
    try {
      const err = (() => {
        try {
          lbc.chooseEventBuffer({ ring: 'events', perf: 'events_pb' });
        } catch (e) {
          return e;
        }
      })();
      expect(isLbcError(err, 'LBC_ERR_MAP_NOT_FOUND')).toBe(true);
      expect((err as Error).message).toContain('"events_pb"');
    } finally {
      lbc.close();
    }
  });
});

describe("ring buffer → perf buffer, libbpf-tools' compat.bpf.h layout (one events map and a heap)", () => {
  async function eventsFrom(lbc: Lbc, calls: number): Promise<number[]> {
    const child = spawn(env.workload, [String(calls), 'wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
    lbc.rodata.target_pid = child.pid!;
    await lbc.load();
    await lbc.attach();
    const seqs: number[] = [];
    const events = lbc.maps.events!;
    const sub = events.type === 27 ? events.openRingBuffer((_e: unknown, raw: Buffer) => seqs.push(raw.readUInt32LE(4))) : events.openPerfBuffer((_e: unknown, raw: Buffer) => seqs.push(raw.readUInt32LE(4)), undefined, { pageCount: 1 });
    const exited = once(child, 'exit');
    child.stdin!.end('go\n');
    await exited;
    for (let i = 0; i < 100 && seqs.length < calls; i++) await sleep(20);
    sub.close();
    return seqs;
  }

  it('without ring buffers (probe answer injected): events becomes a perf event array (type, key and value size 4, as bpf_buffer__new does) and carries the events', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'compat', 'compat-buffer', { load: false }).ready;
    try {
      expect(lbc.maps.events).toMatchObject({ type: 27, typeName: 'ringbuf', autocreate: true });
      expect(lbc.chooseEventBuffer({}, { ringbuf: false })).toEqual({ map: 'events', kind: 'perf' });
      expect(lbc.maps.events).toMatchObject({ type: 4, typeName: 'perf_event_array', keySize: 4, valueSize: 4 });
      expect(lbc.rodata.use_ringbuf).toBe(false);
      expect(await eventsFrom(lbc, 5)).toEqual([0, 1, 2, 3, 4]);
      expect(lbc.maps.heap!.id).toBeGreaterThan(0);
    } finally {
      lbc.close();
    }
  });

  it('with ring buffers (the real probe here): the ring carries the events, the heap is not created', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'compat', 'compat-buffer', { load: false }).ready;
    try {
      expect(lbc.chooseEventBuffer()).toEqual({ map: 'events', kind: 'ringbuf' });
      expect(lbc.maps.heap!.autocreate).toBe(false);
      expect(await eventsFrom(lbc, 5)).toEqual([0, 1, 2, 3, 4]);
      expect(lbc.maps.heap!.fd).toBe(-1);
    } finally {
      lbc.close();
    }
  });
});

describe("libbpf's map set-up by its skeleton names: bpf_map__set_type / set_key_size / set_autocreate", () => {
  it('type by number or name, keySize and autocreate are set before load and read back; an unknown type and a set after load say why', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'compat', 'compat-buffer', { load: false }).ready;
    try {
      const heap = lbc.maps.heap!;
      heap.type = 'BPF_MAP_TYPE_PERCPU_HASH';
      expect([heap.type, heap.typeName]).toEqual([5, 'percpu_hash']);
      heap.type = 'percpu_array';
      heap.keySize = 4;
      expect(heap.keySize).toBe(4);
      const bad = (() => {
        try {
          heap.type = 'no_such_type';
        } catch (e) {
          return e;
        }
      })();
      expect(isLbcError(bad, 'LBC_ERR_BAD_REQUEST')).toBe(true);
      expect((bad as Error).message).toMatch(/unknown map type "no_such_type" \(a number, or one of hash, array, .*ringbuf\)/);
      heap.autocreate = false;
      expect(heap.autocreate).toBe(false);
      heap.autocreate = true;
      lbc.rodata.use_ringbuf = true;
      await lbc.load();
      expect(heap.id).toBeGreaterThan(0);
      const late = (() => {
        try {
          heap.keySize = 8;
        } catch (e) {
          return e;
        }
      })();
      expect(isLbcError(late, 'LBC_ERR_ALREADY_LOADED')).toBe(true);
    } finally {
      lbc.close();
    }
  });
});
