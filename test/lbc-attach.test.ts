/** Attaching by hand through Lbc (compiled by the real service): uprobe by symbol, tracepoint, raw_tp, and the kprobe this kernel lacks. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Lbc, isLbcError } from 'lbc-client';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { startService, type RunningService } from '@lbc/test-support/service';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');

function loadedProgramNames(): string[] {
  return (JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'list'], { encoding: 'utf8' })) as Array<{ name: string }>).map((p) => p.name);
}

describe('Lbc attach methods', () => {
  let redis: PrivateRedis;
  let service: RunningService;
  let cacheDir: string;
  let lbc: Lbc;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    service = await startService({ redisUrl: redis.url });
    cacheDir = mkdtempSync(join(tmpdir(), 'lbc-attach-'));
  });
  afterAll(async () => {
    lbc?.close();
    await service?.stop();
    await redis?.stop();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  const hit = (slot: number) => Number(lbc.maps.hits.get(slot));

  it('auto-attach of an object with a kprobe fails with the clear error and leaves nothing loaded', async () => {
    const before = new Set(loadedProgramNames());
    const err = await new Lbc('byhand', undefined, { cwd: FIXTURES, server: service.url, cacheDir }).ready.catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_ATTACH_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toMatch(/count_nanosleep/);
    expect(loadedProgramNames().filter((n) => n.startsWith('count_') && !before.has(n))).toEqual([]);
  });

  it('auto-attach attaches what names its target and lists the rest as unattached', async () => {
    const src = [
      '#include "lbc.h"',
      'SEC("uprobe") int later_uprobe(void *ctx) { return 0; }',
      'SEC("tracepoint/sched/sched_process_exec") int auto_tp(void *ctx) { return 0; }',
      'char LICENSE[] SEC("license") = "GPL";',
    ].join('\n');
    const l = await new Lbc('skippable', src, { server: service.url, cacheDir }).ready;
    expect(l.unattached).toEqual([{ prog: 'later_uprobe', section: 'uprobe' }]);
    l.close();
  });

  it('attach: false loads without attaching; each program then attaches by hand and fires', async () => {
    lbc = await new Lbc('byhand', undefined, { cwd: FIXTURES, server: service.url, cacheDir, attach: false }).ready;
    expect(lbc.programs.map((p) => p.name).sort()).toEqual(['count_exec_raw', 'count_exec_tp', 'count_getppid', 'count_nanosleep']);

    expect(lbc.phase).toBe('loaded');
    lbc.programs.count_getppid.attachUprobe(process.pid, 'libc', 'getppid');
    expect(lbc.phase).toBe('attached');
    void process.ppid; // libuv's uv_os_getppid → libc getppid()
    expect(hit(0)).toBeGreaterThanOrEqual(1);

    lbc.programs.count_exec_tp.attachTracepoint('sched', 'sched_process_exec');
    lbc.programs.count_exec_raw.attachRawTracepoint('sched_process_exec');
    const child = spawn('/bin/true');
    await new Promise((r) => child.once('exit', r));
    expect(hit(1)).toBeGreaterThanOrEqual(1);
    expect(hit(2)).toBeGreaterThanOrEqual(1);
  });

  it('attachKprobe on a kernel without kprobes says so and names the alternatives', () => {
    const err = (() => {
      try {
        lbc.programs.count_nanosleep.attachKprobe('do_nanosleep');
      } catch (e) {
        return e;
      }
    })();
    expect(isLbcError(err, 'LBC_ERR_ATTACH_UNSUPPORTED')).toBe(true);
    expect((err as Error).message).toMatch(/kprobe/i);
    expect((err as Error).message).toMatch(/tracepoint|raw_tp|tp_btf/);
  });

  it('an unknown program name is LBC_ERR_PROGRAM_NOT_FOUND; after close every attach is LBC_ERR_CLOSED', () => {
    expect(() => lbc.programs.nope.attachTracepoint('sched', 'sched_process_exec')).toThrow(expect.objectContaining({ code: 'LBC_ERR_PROGRAM_NOT_FOUND', message: expect.stringMatching(/nope/) }));
    const program = lbc.programs.count_exec_tp;
    lbc.close();
    expect(lbc.phase).toBe('closed');
    expect(() => lbc.attach('count_exec_tp')).toThrow(expect.objectContaining({ code: 'LBC_ERR_CLOSED' }));
    // A program object kept from before close refuses too: it consults the object's one lifecycle.
    expect(() => program.attachTracepoint('sched', 'sched_process_exec')).toThrow(expect.objectContaining({ code: 'LBC_ERR_CLOSED' }));
  });
});
