import { describe, it, expect } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { LBC_BIN, runCli } from '@lbc/test-support/run-cli';
import { childLines } from '@lbc/test-support/child-lines';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');

interface InspectProg {
  id: number;
  name: string;
  typeName: string;
}

async function inspect<T>(what: string): Promise<T[]> {
  const r = await runCli(['inspect', what, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T[];
}

/** pylcc's cpudist shape: histograms only, no events; a program named `map`. */
const HISTOGRAMS = `
#include "lbc.h"
LBC_HIST2(h2);
LBC_HIST10(h10);
SEC("tracepoint/sched/sched_process_exec")
int map(void *ctx) { hist2_push(&h2, 1000); hist10_push(&h10, 1000); return 0; }
char _license[] SEC("license") = "GPL";
`;

describe('lbc run / lbc inspect (CLI, real service and kernel)', () => {
  const env = useServiceFixture('lbc-cli-run-', (dir) => {
    copyFileSync(join(FIXTURES, 'execcount.bpf.c'), join(dir, 'execcount.bpf.c'));
    writeFileSync(join(dir, 'histograms.bpf.c'), HISTOGRAMS);
    copyFileSync(join(FIXTURES, 'tasklist.bpf.c'), join(dir, 'tasklist.bpf.c'));
  });

  it('run prints LBC_HIST2/LBC_HIST10 maps as histograms when stopped, log10 ranges for the log10 one', async () => {
    const child = spawn(process.execPath, [LBC_BIN, 'run', 'histograms.bpf.c', '--server', env.service.url, '--cache-dir', join(env.dir, 'cache')], { cwd: env.dir });
    const io = childLines(child);
    try {
      for (let i = 0; i < 600 && !io.err().includes('Ctrl-C'); i++) {
        if (child.exitCode !== null) throw new Error(`lbc run exited early:\n${io.err()}`);
        await sleep(50);
      }
      expect(io.err()).toContain('programs: map; no perf or ring buffer maps to print; histograms h2, h10 printed at exit');
      // Nothing to poll, and still running until Ctrl-C.
      await sleep(500);
      expect(child.exitCode).toBeNull();
      const t = spawn('/bin/true');
      await new Promise((r) => t.once('exit', r));
      child.kill('SIGINT');
      // 'close': after the output, which may still arrive once the process has exited.
      expect(await new Promise((r) => child.once('close', (c) => r(c)))).toBe(0);
      const text = io.out.join('\n');
      expect(text).toMatch(/^h2:\n\s+value\s+: count\s+distribution\n/m);
      expect(text).toMatch(/^\s+512 -> 1023\s+: [1-9]\d*\s+\|\*{40}\|$/m);
      expect(text).toMatch(/^h10:\n[^]*^\s+1000 -> 9999\s+: [1-9]\d*\s+\|\*{40}\|$/m);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('run --json prints a decoded event line for /bin/true; inspect sees it; Ctrl-C exits and unloads', async () => {
    const before = new Set((await inspect<InspectProg>('progs')).map((p) => p.id));
    const child = spawn(process.execPath, [LBC_BIN, 'run', 'execcount.bpf.c', '--json', '--server', env.service.url, '--cache-dir', join(env.dir, 'cache')], {
      cwd: env.dir,
    });
    const io = childLines(child);
    try {
      for (let i = 0; i < 600 && !io.err().includes('Ctrl-C'); i++) {
        if (child.exitCode !== null) throw new Error(`lbc run exited early:\n${io.err()}`);
        await sleep(50);
      }
      expect(io.err()).toContain('printing events from perf_events, ring_events');

      // Other suites may load programs meanwhile (one kernel): ours is the new one with our name.
      const ours = (await inspect<InspectProg>('progs')).filter((p) => !before.has(p.id) && p.name === 'e2e_count_exec');
      expect(ours.map((p) => p.typeName)).toEqual(['tracepoint']);
      const links = await inspect<{ progId: number }>('links');
      expect(links.some((l) => l.progId === ours[0]!.id)).toBe(true);

      const t = spawn('/bin/true');
      await new Promise((r) => t.once('exit', r));
      let events: Array<{ map: string; cpu?: number; event: { pid: number; comm: string } }> = [];
      for (let i = 0; i < 200; i++) {
        events = io.out.map((l) => JSON.parse(l)).filter((e) => e.event.pid === t.pid);
        if (events.length >= 2) break;
        await sleep(25);
      }
      expect(events.map((e) => e.map).sort()).toEqual(['perf_events', 'ring_events']);
      for (const e of events) expect(e.event.comm).toBe('true');
      expect(typeof events.find((e) => e.map === 'perf_events')!.cpu).toBe('number');

      child.kill('SIGINT');
      const code = await new Promise((r) => child.once('exit', (c) => r(c)));
      expect(code).toBe(0);
      const after = new Set((await inspect<InspectProg>('progs')).map((p) => p.id));
      for (const p of ours) expect(after.has(p.id)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it("run prints a BPF iterator's output (the CLI's own node process among the tasks) and exits when iterators are all there is", async () => {
    const r = await runCli(['run', 'tasklist.bpf.c', '--server', env.service.url, '--cache-dir', join(env.dir, 'cache')], { cwd: env.dir });
    expect(r.stderr).not.toContain('Ctrl-C');
    expect(r.code).toBe(0);
    const tasks = r.stdout.trim().split('\n').map((l) => l.split(' '));
    expect(tasks.length).toBeGreaterThan(5);
    // The CLI's node process is among the tasks the iterator walked.
    expect(tasks.some(([, comm]) => comm === 'node')).toBe(true);
    expect(tasks.every(([pid]) => /^\d+$/.test(pid!))).toBe(true);
  });

  it('inspect rejects an unknown listing', async () => {
    const r = await runCli(['inspect', 'everything']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LBC_ERR_BAD_REQUEST');
  });
});
