// BPF iterators through the program object: attachIter() makes the link, read()/text() run the
// iterator on this kernel and return what the program printed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLbcError } from '@lbc/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lbc } from '../src/index.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { cachedLbc } from './object-setup-support.ts';

const env = useNativeFixtures();
let cacheDir: string;
let lbc: Lbc;
beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lbc-iter-cache-'));
  lbc = await cachedLbc(env.fixtures, cacheDir, 'iterators', 'iterators').ready;
});
afterAll(() => {
  lbc?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('BPF iterators', () => {
  it('auto-attach leaves iterators to attachIter and lists them as unattached', () => {
    expect(lbc.unattached.map((u) => u.prog).sort()).toEqual(['lbct_list_maps', 'lbct_list_tasks']);
  });

  it('iter/task lists every process, this test process among them, and reads again on demand', () => {
    const tasks = lbc.programs.lbct_list_tasks.attachIter();
    const lines = tasks.text().trim().split('\n');
    const pids = new Map(lines.map((line) => [Number(line.split(' ')[0]), line.slice(line.indexOf(' ') + 1)]));
    expect(pids.has(process.pid)).toBe(true);
    expect(pids.size).toBeGreaterThan(5);
    // A fresh iterator each read: a process started in between shows up in the next read.
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      expect(pids.has(child.pid!)).toBe(false);
      expect(tasks.text()).toContain(`\n${child.pid} sleep\n`);
    } finally {
      child.kill('SIGKILL');
    }
    tasks.destroy();
    expect(() => tasks.read()).toThrow(/detached/);
  });

  it('iter/task with { pid } walks that one process', () => {
    const one = lbc.programs.lbct_list_tasks.attachIter({ pid: process.pid });
    expect(one.text().trim().split('\n').map((l) => Number(l.split(' ')[0]))).toEqual([process.pid]);
    one.destroy();
  });

  it("iter/bpf_map lists the kernel's maps, this object's own among them", () => {
    const maps = lbc.programs.lbct_list_maps.attachIter();
    const lines = maps.text().trim().split('\n');
    expect(lines).toContain(`${lbc.maps.squares.id} squares`);
    maps.destroy();
  });

  it('attachIter on a program that is not an iterator is LBC_ERR_PROGRAM_KIND', () => {
    let err: unknown;
    try {
      lbc.programs.lbct_not_an_iterator.attachIter();
    } catch (e) {
      err = e;
    }
    expect(isLbcError(err, 'LBC_ERR_PROGRAM_KIND')).toBe(true);
    expect((err as Error).message).toContain('SEC("tracepoint/sched/sched_process_exec"), not a BPF iterator');
  });
});
