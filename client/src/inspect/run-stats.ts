/**
 * The kernel counts program runs and run time only while BPF statistics are on
 * (kernel.bpf_stats_enabled, or an fd from BPF_ENABLE_STATS): `measureRunStats` holds such an fd for
 * a while and returns what each program ran meanwhile.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadNative } from '../native/index.ts';
import type { NativeAddon } from '../native/types.ts';
import { inspectError } from './kernel-view.ts';

export interface RunStats {
  runCount: bigint;
  runTimeNs: bigint;
}

export interface RunStatsDelta extends RunStats {
  /** Mean nanoseconds per run, when it ran. */
  nsPerRun?: number;
}

/** Whether the kernel counts runs right now (the sysctl; an fd held by another process also counts, unseen here). */
export function statsSysctlOn(): boolean | undefined {
  try {
    return readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim() === '1';
  } catch {
    return undefined;
  }
}

function snapshot(native: NativeAddon, ids?: readonly number[]): Map<number, RunStats> {
  const out = new Map<number, RunStats>();
  for (const id of ids ?? native.objectIds('prog')) {
    try {
      const p = native.programInfo(id);
      out.set(id, { runCount: p.runCount ?? 0n, runTimeNs: p.runTimeNs ?? 0n });
    } catch {
      // Unloaded meanwhile.
    }
  }
  return out;
}

/**
 * Turns the kernel's run-time statistics on for `seconds` (calling `during` once they are on, if
 * given) and returns each program's runs and run time in that window. `ids`: only these programs.
 */
export async function measureRunStats(seconds: number, opts: { ids?: readonly number[]; during?: () => unknown | Promise<unknown> } = {}): Promise<Map<number, RunStatsDelta>> {
  const native = loadNative();
  let fd: number;
  try {
    fd = native.enableRunTimeStats();
  } catch (err) {
    throw inspectError(err, 'prog');
  }
  try {
    const before = snapshot(native, opts.ids);
    await Promise.all([sleep(seconds * 1000), opts.during?.()]);
    const after = snapshot(native, opts.ids);
    const out = new Map<number, RunStatsDelta>();
    for (const [id, a] of after) {
      const b = before.get(id) ?? { runCount: 0n, runTimeNs: 0n };
      const runCount = a.runCount - b.runCount;
      const runTimeNs = a.runTimeNs - b.runTimeNs;
      out.set(id, { runCount, runTimeNs, ...(runCount > 0n ? { nsPerRun: Number(runTimeNs / runCount) } : {}) });
    }
    return out;
  } finally {
    native.closeFd(fd);
  }
}
