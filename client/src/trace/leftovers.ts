/**
 * Probes and instances of lbc trace runs whose process is gone (killed with SIGKILL, a crash, a
 * generated script killed hard): removed at the next start. Names carry the owner's pid
 * (instances/lbc-<pid>, event group lbc_<pid>), so only dead runs are touched.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processAlive as alive } from './process-alive.ts';
import { perform } from './tracefs.ts';


export interface SweepResult {
  instances: string[];
  probes: string[];
}

export function sweepLeftovers(root: string): SweepResult {
  const result: SweepResult = { instances: [], probes: [] };
  let entries: string[] = [];
  try {
    entries = readdirSync(`${root}/instances`);
  } catch {
    // No instances directory: nothing of ours can be left.
  }
  for (const name of entries) {
    const m = /^lbc-(\d+)$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    const dir = `instances/${name}`;
    for (const op of [{ op: 'write' as const, path: `${dir}/tracing_on`, text: '0' }, { op: 'rmdir' as const, path: dir }]) {
      try {
        perform(root, op);
      } catch {
        // Best effort: one stuck instance must not stop this run.
      }
    }
    result.instances.push(name);
  }
  for (const file of ['uprobe_events', 'kprobe_events'] as const) {
    let text = '';
    try {
      text = readFileSync(`${root}/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const m = /^[pr]:(lbc_(\d+))\/(\w+)\s/.exec(line);
      if (!m || alive(Number(m[2]))) continue;
      try {
        perform(root, { op: 'append', path: file, text: `-:${m[1]}/${m[3]}` });
        result.probes.push(`${m[1]}/${m[3]}`);
      } catch {
        // Still enabled somewhere else: leave it.
      }
    }
  }
  return result;
}
