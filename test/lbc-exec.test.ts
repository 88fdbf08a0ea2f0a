/**
 * The issue-3 main test, end to end: real service (API + queue + clang in Docker), real kernel.
 * A tracepoint program counts execs in LBC_HASH and reports them through LBC_PERF_OUTPUT and
 * LBC_RINGBUF; `new Lbc('execcount')` compiles, loads, attaches; /bin/true shows up on both buffers.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lbc, isLbcError } from 'lbc-client';
import { ServiceClient } from '../client/src/transport/index.ts';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { startService, type RunningService } from '@lbc/test-support/service';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');

interface ExecEvent {
  pid: number;
  ppid: number;
  comm: string;
}

function loadedProgramIds(): number[] {
  const list = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'list'], { encoding: 'utf8' })) as Array<{ id: number }>;
  return list.map((p) => p.id);
}

async function runTrue(): Promise<number> {
  const child = spawn('/bin/true', { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

async function until<T>(what: string, probe: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('new Lbc(name): compile, load, attach, events, close', () => {
  let redis: PrivateRedis;
  let service: RunningService;
  let cacheDir: string;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    service = await startService({ redisUrl: redis.url });
    cacheDir = mkdtempSync(join(tmpdir(), 'lbc-e2e-cache-'));
  });
  afterAll(async () => {
    await service?.stop();
    await redis?.stop();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  it('an exec of /bin/true arrives decoded on the perf buffer and the ring buffer, and is counted', async () => {
    const t0 = performance.now();
    const lbc = new Lbc('execcount', undefined, { cwd: FIXTURES, server: service.url, cacheDir });
    await lbc.ready;
    const coldMs = performance.now() - t0;
    expect(lbc.origin).toBe('service');
    expect(Object.keys(lbc.maps).sort()).toEqual(['exec_counts', 'perf_events', 'ring_events']);
    const progIds = lbc.programs.map((p) => p.id);
    expect(progIds.length).toBe(1);
    expect(loadedProgramIds()).toEqual(expect.arrayContaining(progIds));

    const perf: ExecEvent[] = [];
    const ring: ExecEvent[] = [];
    lbc.maps.perf_events.openPerfBuffer((e) => perf.push(e as ExecEvent));
    lbc.maps.ring_events.openRingBuffer((e) => ring.push(e as ExecEvent));

    const pid = await runTrue();
    const fromPerf = await until('perf event', () => perf.find((e) => e.pid === pid));
    const fromRing = await until('ring event', () => ring.find((e) => e.pid === pid));
    expect(fromPerf).toEqual({ pid, ppid: process.pid, comm: 'true' });
    expect(fromRing).toEqual(fromPerf);
    expect(Number(lbc.maps.exec_counts.get(pid))).toBe(1);

    lbc.close();
    const after = loadedProgramIds();
    for (const id of progIds) expect(after).not.toContain(id);
    console.log(`cold start through the service: ${coldMs.toFixed(0)} ms`);
  });

  it('a second start takes the cached object without any request', async () => {
    const t0 = performance.now();
    // A server nobody listens on: any request would fail, so success proves none was made.
    const lbc = new Lbc('execcount', undefined, { cwd: FIXTURES, server: 'http://127.0.0.1:9', cacheDir });
    await lbc.ready;
    const warmMs = performance.now() - t0;
    expect(lbc.origin).toBe('cache');
    const ring: ExecEvent[] = [];
    lbc.maps.ring_events.openRingBuffer((e) => ring.push(e as ExecEvent));
    const pid = await runTrue();
    await until('ring event', () => ring.find((e) => e.pid === pid && e.comm === 'true'));
    lbc.close();
    console.log(`warm start from the local cache: ${warmMs.toFixed(0)} ms`);
  });

  it('close() before ready settles leaves nothing loaded', async () => {
    const before = new Set(loadedProgramIds());
    const lbc = new Lbc('execcount', undefined, { cwd: FIXTURES, server: service.url, cacheDir });
    lbc.close();
    await lbc.ready;
    expect(loadedProgramIds().filter((id) => !before.has(id))).toEqual([]);
    expect(() => lbc.maps).toThrow(/LBC_ERR_CLOSED|closed/);
  });

  it('after close, maps refuse with LBC_ERR_CLOSED', async () => {
    const lbc = await new Lbc('execcount', undefined, { cwd: FIXTURES, server: service.url, cacheDir }).ready;
    const counts = lbc.maps.exec_counts;
    lbc.close();
    lbc.close();
    const err = (() => {
      try {
        counts.get(1);
      } catch (e) {
        return e;
      }
    })();
    expect(isLbcError(err, 'LBC_ERR_CLOSED')).toBe(true);
  });

  it('btfCustomPath is handed to libbpf for CO-RE (the path a kernel without its own BTF takes)', async () => {
    const btf = join(cacheDir, 'custom-vmlinux.btf');
    copyFileSync('/sys/kernel/btf/vmlinux', btf);
    const lbc = await new Lbc('execcount', undefined, { cwd: FIXTURES, server: service.url, cacheDir, btfCustomPath: btf }).ready;
    const ring: ExecEvent[] = [];
    lbc.maps.ring_events.openRingBuffer((e) => ring.push(e as ExecEvent));
    const pid = await runTrue();
    expect((await until('ring event', () => ring.find((e) => e.pid === pid))).ppid).toBe(process.pid);
    lbc.close();
    const missing = await new Lbc('execcount', undefined, { cwd: FIXTURES, server: service.url, cacheDir, btfCustomPath: join(cacheDir, 'absent.btf') }).ready.catch((e: unknown) => e);
    expect(isLbcError(missing, 'LBC_ERR_LOAD')).toBe(true);
    expect((missing as Error).message).toMatch(/target BTF/);
  });

  it('a missing ./NAME.bpf.c is LBC_ERR_SOURCE_NOT_FOUND', async () => {
    const err = await new Lbc('nosuchprog', undefined, { cwd: FIXTURES, server: service.url, cacheDir }).ready.catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_SOURCE_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain('nosuchprog.bpf.c');
  });

  it('a compile error rejects ready with LBC_ERR_COMPILE carrying the diagnostics', async () => {
    const err = await new Lbc('broken', undefined, { cwd: FIXTURES, server: service.url, cacheDir }).ready.catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_COMPILE')).toBe(true);
    expect(JSON.stringify((err as { details?: unknown }).details)).toMatch(/broken\.bpf\.c:6:\d+: error/);
  });

  it('Ctrl-C in a program using Lbc unloads everything, then dies of SIGINT as usual', async () => {
    const script = `
      import { Lbc } from 'lbc-client';
      const lbc = await new Lbc('execcount', undefined, ${JSON.stringify({ cwd: FIXTURES, server: service.url, cacheDir })}).ready;
      console.log(JSON.stringify(lbc.programs.map((p) => p.id)));
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: resolve(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const ids = await new Promise<number[]>((r) => child.stdout!.once('data', (d: Buffer) => r(JSON.parse(d.toString()))));
    expect(ids.length).toBe(1);
    expect(loadedProgramIds()).toEqual(expect.arrayContaining(ids));
    child.kill('SIGINT');
    const signal = await new Promise((r) => child.once('exit', (_c, s) => r(s)));
    expect(signal).toBe('SIGINT');
    const after = loadedProgramIds();
    for (const id of ids) expect(after).not.toContain(id);
  });

  it('the service lists the host kernel it compiled for', async () => {
    const client = new ServiceClient({ server: service.url });
    try {
      const kernels = await client.listKernels();
      expect(kernels.map((k) => k.release)).toContain(execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
    } finally {
      await client.close();
    }
  });
});
