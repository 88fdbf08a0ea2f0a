/**
 * The client API misused as a newcomer (or ported code) would: each mistake is refused where it is
 * made, naming what to do, and never surfaces later from the kernel or the poll loop. A real
 * kernel: the objects are loaded for real (the fixtures built with the host's clang).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { Lbc, fentryCanAttach } from '../src/index.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { loadKernelFixture, type LoadedFixture } from './fixtures/maps-kernel.ts';
import { DEAD_SERVER, cachedLbc } from './object-setup-support.ts';

const caught = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('event buffers opened with something that is not a callback', () => {
  let f: LoadedFixture;
  beforeAll(() => {
    f = loadKernelFixture();
    f.attach();
  });
  afterAll(() => f?.close());

  it('openRingBuffer / openPerfBuffer / their batch forms refuse a non-function at once, with TypeError naming the method', () => {
    for (const bad of [5, null, 'cb', {}]) {
      expect(() => f.maps.rb.openRingBuffer(bad as never)).toThrow(/openRingBuffer\(cb\): cb must be a function/);
      expect(() => f.maps.rb.openRingBufferBatch(bad as never)).toThrow(/openRingBufferBatch\(cb\): cb must be a function/);
      expect(() => f.maps.e_out.openPerfBuffer(bad as never)).toThrow(/openPerfBuffer\(cb\): cb must be a function/);
      expect(() => f.maps.e_out.openPerfBufferBatch(bad as never)).toThrow(TypeError);
    }
    expect(() => f.maps.e_out.openPerfBuffer(() => {}, 7 as never)).toThrow(/lost must be a function or undefined, got number/);
  });

  it('after such a refusal the process lives on through an exec, and a real callback still gets its event', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      caught(() => f.maps.rb.openRingBuffer(5 as never));
      const events: unknown[] = [];
      const sub = f.maps.rb.openRingBuffer((e) => events.push(e));
      const child = spawn('/bin/true');
      await once(child, 'exit');
      for (let i = 0; i < 100 && events.length === 0; i++) await sleep(20);
      sub.close();
      expect(events.length).toBeGreaterThan(0);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('a misspelt update flag is a TypeError, not BPF_ANY (which would overwrite what "noexist" protects)', () => {
    f.maps.slots.set(41, 1n, 'noexist');
    expect(() => f.maps.slots.set(41, 2n, 'nonexist' as never)).toThrow(/flag: expected one of any, noexist, exist, got "nonexist"/);
    expect(f.maps.slots.get(41)).toBe(1n);
    f.maps.slots.delete(41);
  });
});

describe('set-up and attach mistakes on a real object', () => {
  const env = useNativeFixtures();
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'lbc-misuse-cache-'));
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('attaching the twin lbc turned off (fentry here) is LBC_ERR_PROGRAM_NOT_LOADED naming it, not EINVAL from libbpf', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'twins', 'twins').ready;
    try {
      expect(lbc.programs.lbct_nap_fentry!.autoload).toBe(false);
      for (const attach of [() => lbc.programs.lbct_nap_fentry!.attach(), () => lbc.programs.lbct_nap_fentry!.attachTrace(), () => lbc.attachTrace('lbct_nap_fentry')]) {
        const err = caught(attach);
        expect(isLbcError(err, 'LBC_ERR_PROGRAM_NOT_LOADED'), String(err)).toBe(true);
        expect((err as Error).message).toContain('program lbct_nap_fentry (SEC("fentry/do_nanosleep"))');
        expect((err as { hint: string }).hint).toContain('lbc.fallbacks');
      }
      // The loaded twin attached at start; attaching it again says it is attached already.
      const again = caught(() => lbc.programs.lbct_nap_tp!.attach());
      expect(isLbcError(again, 'LBC_ERR_ATTACH')).toBe(true);
      expect((again as Error).message).toMatch(/EEXIST \(the program is attached there already/);
    } finally {
      lbc.close();
    }
  });

  it('a pin path off bpffs is refused when set, naming the map; the object stays usable and loads', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'setup-pin', 'object-setup', { load: false }).ready;
    try {
      const map = 'per_pid';
      expect(() => (lbc.maps[map]!.pinPath = 'relative/pin')).toThrow(new RegExp(`${map}\\.pinPath: expected an absolute path on bpffs`));
      expect(() => (lbc.maps[map]!.pinPath = join(tmpdir(), 'pin'))).toThrow(/is not on bpffs/);
      expect(lbc.maps[map]!.pinPath).toBeUndefined();
      await lbc.load();
      expect(lbc.phase).not.toBe('closed');
    } finally {
      lbc.close();
    }
  });

  it('perf event attr and fentryCanAttach arguments of the wrong kind are TypeErrors naming the argument', async () => {
    const lbc = await cachedLbc(env.fixtures, cacheDir, 'twins-attr', 'twins').ready;
    try {
      expect(() => lbc.programs.lbct_nap_tp!.attachPerfEvent(null as never)).toThrow(/perf event attr: expected an object of perf_event_attr fields/);
    } finally {
      lbc.close();
    }
    expect(fentryCanAttach(5 as never)).toBe(false);
    expect(fentryCanAttach(undefined as never)).toBe(false);
    expect(() => fentryCanAttach('do_nanosleep', 'fmod_ret' as never)).toThrow(/kind is 'fentry' or 'fexit'/);
  });
});

describe('a program handed over in the wrong form', () => {
  const source = '#include "lbc.h"\nchar LICENSE[] SEC("license") = "GPL";\n';
  const opts = { server: DEAD_SERVER, cacheDir: join(tmpdir(), 'lbc-misuse-never-written') };

  it('source read without an encoding (a Buffer) is a TypeError saying to read it as utf8, not "text.matchAll is not a function"', async () => {
    const err = await new Lbc('hello', Buffer.from(source) as never, opts).ready.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/source is the program's C text \(a string\).*a Buffer \(read the file with readFileSync\(path, 'utf8'\)\)/);
    const num = await new Lbc('hello', 5 as never, opts).ready.catch((e: unknown) => e);
    expect((num as Error).message).toMatch(/got number$/);
  });

  it('env and cflags of the wrong shape are TypeErrors naming the option, before any request', async () => {
    const env = await new Lbc('hello', source, { ...opts, env: { X: '1' } as never }).ready.catch((e: unknown) => e);
    expect(env).toBeInstanceOf(TypeError);
    expect((env as Error).message).toMatch(/^env: pylcc's flags as a string/);
    const cflags = await new Lbc('hello', source, { ...opts, cflags: '-DX=1' as never }).ready.catch((e: unknown) => e);
    expect((cflags as Error).message).toMatch(/^cflags: a list of -DNAME\[=VALUE\] \/ -UNAME flags, got string/);
  });
});
