/**
 * A trace run as a list of tracefs operations: the runner performs them, -S prints them and -o
 * saves them as a shell script, so all three agree on what is created and what is removed.
 */
import type { ProbePlan } from './translate.ts';

export type TracefsOp =
  | { op: 'mkdir' | 'rmdir'; path: string }
  | { op: 'write' | 'append'; path: string; text: string };

export interface RunNames {
  /** instances/<instance> */
  instance: string;
  stack: boolean;
}

export function setupOps(plans: ProbePlan[], names: RunNames): TracefsOp[] {
  const dir = `instances/${names.instance}`;
  const ops: TracefsOp[] = [{ op: 'mkdir', path: dir }];
  for (const p of plans) {
    if (p.definition) ops.push({ op: 'append', path: p.definition.file, text: p.definition.text });
    const ev = `${dir}/events/${p.system}/${p.event}`;
    if (p.filter) ops.push({ op: 'write', path: `${ev}/filter`, text: p.filter });
    ops.push({ op: 'write', path: `${ev}/enable`, text: '1' });
  }
  if (names.stack) ops.push({ op: 'write', path: `${dir}/options/stacktrace`, text: '1' });
  ops.push({ op: 'write', path: `${dir}/tracing_on`, text: '1' });
  return ops;
}

/** The reverse of setupOps; every step is attempted even when an earlier one fails. */
export function teardownOps(plans: ProbePlan[], names: RunNames): TracefsOp[] {
  const dir = `instances/${names.instance}`;
  const ops: TracefsOp[] = [{ op: 'write', path: `${dir}/tracing_on`, text: '0' }];
  for (const p of plans) ops.push({ op: 'write', path: `${dir}/events/${p.system}/${p.event}/enable`, text: '0' });
  ops.push({ op: 'rmdir', path: dir });
  for (const p of plans) if (p.definition) ops.push({ op: 'append', path: p.definition.file, text: `-:${p.system}/${p.event}` });
  return ops;
}
