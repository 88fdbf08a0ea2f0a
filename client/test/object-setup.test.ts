/**
 * Setting an object up between open and load (issue 7), on the real kernel: constants filter by
 * pid from one compiled object, globals read and written live after load, programs turned off,
 * maps resized and pinned, and the errors for what cannot be done.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caught } from '@lbc/test-support/caught';
import type { Lbc } from '../src/index.ts';
import { loadedProgramNames } from '@lbc/test-support/native-fixtures';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { bpftoolJson, cachedLbc } from './object-setup-support.ts';

const env = useNativeFixtures();
let cacheDir: string;
beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lbc-setup-cache-'));
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const open = (opts: Parameters<typeof cachedLbc>[4] = {}) => cachedLbc(env.fixtures, cacheDir, 'objsetup', 'object-setup', { load: false, ...opts });

/** A getppid loop that waits for a line on stdin before its `calls` calls, so its pid is known first. */
function waitingWorkload(calls: number): ChildProcess {
  return spawn(env.workload, [String(calls), 'wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
}

async function release(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => {
    const exited = once(c, 'exit');
    c.stdin!.end('go\n');
    return exited;
  }));
}

const mapsNamed = (name: string) => bpftoolJson<Array<{ name?: string }>>('map', 'list').filter((m) => m.name === name);

interface Event {
  pid: number;
  tag: number;
}

async function drain(lbc: Lbc, until: (events: Event[]) => boolean): Promise<Event[]> {
  const events: Event[] = [];
  const sub = lbc.maps.events.openRingBuffer((_e: unknown, raw: Buffer) => events.push({ pid: raw.readUInt32LE(0), tag: raw.readUInt32LE(4) }));
  for (let i = 0; i < 100 && !until(events); i++) await sleep(20);
  await sleep(50);
  sub.close();
  return events;
}

describe('constants set before load', () => {
  it('one compiled object filters two different pids, and neither start reaches the service', async () => {
    const calls = 25;
    for (const pick of [0, 1]) {
      const children = [waitingWorkload(calls), waitingWorkload(calls)];
      const target = children[pick]!.pid!;
      const lbc = await open().ready;
      try {
        expect(lbc.origin).toBe('cache');
        expect(lbc.rodata.target_pid).toBe(0);
        lbc.rodata.target_pid = target;
        await lbc.load();
        await lbc.attach();
        await release(children);
        const events = await drain(lbc, (e) => e.length >= calls);
        expect(events.length).toBe(calls);
        expect(new Set(events.map((e) => e.pid))).toEqual(new Set([target]));
        // The .bss counter, read from JS through the mapped map, counts what the ring delivered.
        expect(lbc.bss.matched).toBe(BigInt(events.length));
        expect(lbc.bss.last_pid).toBe(target);
        expect(lbc.bss.seen_any as bigint).toBeGreaterThanOrEqual(BigInt(2 * calls));
        expect(lbc.rodata.target_pid).toBe(target);
      } finally {
        lbc.close();
      }
    }
  });

  it('.data, custom .data.* and .rodata.* sections are typed and set before load; .bss/.data stay live after', async () => {
    const lbc = await open().ready;
    try {
      expect(Object.keys(lbc.sections).sort()).toEqual(['.bss', '.data', '.data.tuning', '.rodata', '.rodata.modes']);
      expect({ ...lbc.sections['.data.tuning'] }).toEqual({ bias: 5n, scale: 3 });
      expect(lbc.data.step).toBe(1);
      expect(lbc.rodata.small_limit).toBe(-1);
      lbc.sections['.rodata.modes']!.mode = 2;
      lbc.sections['.data.tuning']!.scale = 10;
      lbc.data.step = 2;
      const child = waitingWorkload(3);
      lbc.rodata.target_pid = child.pid!;
      await lbc.load();
      await lbc.attach();
      // Written after load through the mapped value: the program reads it on its next run.
      lbc.sections['.data.tuning']!.bias = 1000n;
      await release([child]);
      const events = await drain(lbc, (e) => e.length >= 3);
      // tag = 7 + mode * scale + bias
      expect(events.map((e) => e.tag)).toEqual([1027, 1027, 1027]);
      expect(lbc.bss.matched).toBe(6n); // step 2 per call
      lbc.bss.matched = 0n;
      expect(lbc.bss.matched).toBe(0n);
      expect(JSON.parse(JSON.stringify(lbc.data))).toEqual({ step: 2 });
      expect(mapsNamed('objsetup.bss')).toHaveLength(1);
    } finally {
      lbc.close();
    }
    // close() unmaps the live globals at once: no mapping keeps the kernel's map alive until GC.
    for (let i = 0; i < 100 && mapsNamed('objsetup.bss').length > 0; i++) await sleep(20);
    expect(mapsNamed('objsetup.bss')).toEqual([]);
  });
});

describe('programs and maps set up before load', () => {
  it('autoload = false keeps a program out of the kernel and out of attach()', async () => {
    const lbc = await open().ready;
    try {
      expect(lbc.programs.map((p) => p.name)).toEqual(['lbct_filter', 'lbct_spare']);
      lbc.programs.lbct_spare!.autoload = false;
      await lbc.load();
      await lbc.attach();
      const loaded = loadedProgramNames();
      expect(loaded).toContain('lbct_filter');
      expect(loaded).not.toContain('lbct_spare');
      expect(lbc.programs.lbct_spare!.fd).toBe(-1);
      expect(lbc.programs.lbct_filter!.id).toBeGreaterThan(0);
      expect(lbc.unattached).toEqual([]);
    } finally {
      lbc.close();
    }
  });

  it('maxEntries and valueSize set before load are what the kernel created (bpftool map show)', async () => {
    const lbc = await open().ready;
    try {
      expect(lbc.maps.per_pid!.maxEntries).toBe(16);
      lbc.maps.per_pid!.maxEntries = 48;
      lbc.maps.scratch!.valueSize = 24;
      lbc.maps.scratch!.maxEntries = 5;
      expect(lbc.maps.per_pid!.maxEntries).toBe(48);
      expect(lbc.maps.per_pid!.id).toBe(0);
      await lbc.load();
      const perPid = bpftoolJson<{ max_entries: number; value: number }>('map', 'show', 'id', String(idOf(lbc, 'per_pid')));
      expect(perPid.max_entries).toBe(48);
      const scratch = bpftoolJson<{ max_entries: number; bytes_value: number }>('map', 'show', 'id', String(idOf(lbc, 'scratch')));
      expect(scratch.max_entries).toBe(5);
      expect(scratch.bytes_value).toBe(24);
      // A value of the new size, read back by size (no BTF type of 24 bytes).
      lbc.maps.scratch!.set(1, Buffer.alloc(24, 7));
      expect(lbc.maps.scratch!.get(1)).toEqual(Buffer.alloc(24, 7));
    } finally {
      lbc.close();
    }
  });

  it('a pinned map is reused by the next load; reuseFd shares a live map', async () => {
    const pin = `/sys/fs/bpf/lbct_setup_${process.pid}`;
    const first = await open().ready;
    const others: Lbc[] = [];
    try {
      first.maps.per_pid!.pinPath = pin;
      await first.load();
      expect(existsSync(pin)).toBe(true);
      first.maps.per_pid!.set(4242, 99n);

      const second = await open().ready;
      others.push(second);
      second.maps.per_pid!.pinPath = pin;
      await second.load();
      expect(idOf(second, 'per_pid')).toBe(idOf(first, 'per_pid'));
      expect(second.maps.per_pid!.get(4242)).toBe(99n);

      const third = await open().ready;
      others.push(third);
      third.maps.per_pid!.reuseFd(first.maps.per_pid!.fd);
      await third.load();
      expect(idOf(third, 'per_pid')).toBe(idOf(first, 'per_pid'));
      expect(third.maps.per_pid!.pinPath).toBeUndefined();
    } finally {
      for (const l of others) l.close();
      first.close();
      if (existsSync(pin)) unlinkSync(pin);
    }
  });
});

const idOf = (lbc: Lbc, map: string) => lbc.maps[map]!.id;

describe('attach targets set before load', () => {
  async function hitsAfterExecs(retarget: boolean): Promise<bigint> {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'retarget', 'retarget', { load: false }).ready;
    try {
      if (retarget) lbc.programs.lbct_retarget!.attachTarget = 'sched_process_exec';
      await lbc.load();
      await lbc.attach();
      for (let i = 0; i < 3; i++) await once(spawn('/bin/true'), 'exit');
      await sleep(20);
      return lbc.bss.hits as bigint;
    } finally {
      lbc.close();
    }
  }

  it('a tp_btf program retargeted to sched_process_exec counts execs; as compiled it does not', async () => {
    expect(await hitsAfterExecs(false)).toBe(0n);
    expect(await hitsAfterExecs(true)).toBeGreaterThanOrEqual(3n);
  });
});

describe('what cannot be done says so', () => {
  it('an unknown constant, a value out of the type range, rodata after load: named variable and type, nothing written', async () => {
    const lbc = await open().ready;
    try {
      let err = await caught(() => (lbc.rodata.target_pdi = 1));
      expect(err.code).toBe('LBC_ERR_GLOBAL_NOT_FOUND');
      expect(err.message).toContain('"target_pdi"');
      expect(err.message).toContain('target_pid (const volatile __u32)');

      lbc.rodata.target_pid = 17;
      for (const bad of [-1, 2 ** 32, 1.5, 'x', 10n ** 20n]) {
        err = await caught(() => (lbc.rodata.target_pid = bad));
        expect(err.code).toBe('LBC_ERR_GLOBAL_VALUE');
        expect(err.message).toContain('target_pid is const volatile __u32');
      }
      err = await caught(() => (lbc.rodata.small_limit = 128));
      expect(err.message).toMatch(/small_limit is const volatile __s8: .*128 is out of range .*-128\.\.127/);
      expect(lbc.rodata.target_pid).toBe(17);
      expect(lbc.rodata.small_limit).toBe(-1);

      expect((await caught(() => lbc.maps.per_pid!.get(1))).code).toBe('LBC_ERR_NOT_LOADED');
      expect((await caught(() => lbc.programs.lbct_filter!.attachTracepoint('syscalls', 'sys_enter_getppid'))).code).toBe('LBC_ERR_NOT_LOADED');
      expect(lbc.phase).toBe('opened');

      await lbc.load();
      err = await caught(() => (lbc.rodata.target_pid = 18));
      expect(err.code).toBe('LBC_ERR_GLOBAL_READ_ONLY');
      expect(err.message).toContain('target_pid (const volatile __u32)');
      expect(lbc.rodata.target_pid).toBe(17);
      expect((await caught(() => (lbc.programs.lbct_spare!.autoload = false))).code).toBe('LBC_ERR_ALREADY_LOADED');
      expect((await caught(() => (lbc.maps.per_pid!.maxEntries = 4))).code).toBe('LBC_ERR_ALREADY_LOADED');
      expect((await caught(() => lbc.load())).code).toBe('LBC_ERR_ALREADY_LOADED');
    } finally {
      lbc.close();
    }
    expect((await caught(() => lbc.bss.matched)).code).toBe('LBC_ERR_CLOSED');
  });

  it('an attach target that is no kernel function is LBC_ERR_SETUP naming it', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'twins', 'twins', { load: false }).ready;
    try {
      const err = await caught(() => (lbc.programs.lbct_nap_fentry!.attachTarget = 'no_such_function_lbct'));
      expect(err.code).toBe('LBC_ERR_SETUP');
      expect(err.message).toContain('no_such_function_lbct');
      lbc.programs.lbct_nap_fentry!.attachTarget = 'hrtimer_nanosleep';
      expect(lbc.programs.lbct_nap_fentry!.attachTarget).toBe('hrtimer_nanosleep');
    } finally {
      lbc.close();
    }
  });
});
