/** Programs on perf events (SEC("perf_event")): one CPU, or every online CPU. */
import { readFileSync } from 'node:fs';
import type { NativeLink, NativeObject } from '../native/types.ts';
import { loadNative } from '../native/index.ts';
import { attachError, translateAttach } from './attach-errors.ts';
import { requireProgram } from './program-lookup.ts';

/** perf_event_attr essentials: PERF_TYPE_* and its config; a period or a frequency. */
export interface PerfEventAttr {
  type: number;
  config: number;
  samplePeriod?: number;
  sampleFreq?: number;
}

export interface PerfEventScope {
  /** -1 (default): every process on `cpu`. */
  pid?: number;
  /** -1: every CPU for `pid` (needs pid >= 0). */
  cpu?: number;
}

/** Opens the perf event and attaches; the link owns the event (destroy closes it). */
export function attachPerfEvent(object: NativeObject, prog: string, attr: PerfEventAttr, scope: PerfEventScope = {}): NativeLink {
  requireProgram(object, prog);
  const native = loadNative();
  const pid = scope.pid ?? -1;
  const cpu = scope.cpu ?? 0;
  const target = { prog, kind: 'perf_event' as const, target: `perf event type ${attr.type} config ${attr.config} (pid ${pid}, cpu ${cpu})` };
  let fd: number;
  try {
    fd = native.perfEventOpen(attr, pid, cpu);
  } catch (err) {
    throw attachError(err, target);
  }
  try {
    return translateAttach(target, () => object.attachPerfEvent(prog, fd));
  } catch (err) {
    native.closeFd(fd);
    throw err;
  }
}

/** One link per online CPU (what profilers want); all are detached again if one fails. */
export function attachPerfEventAllCpus(object: NativeObject, prog: string, attr: PerfEventAttr, scope: { pid?: number } = {}): NativeLink[] {
  const links: NativeLink[] = [];
  try {
    for (const cpu of onlineCpus()) links.push(attachPerfEvent(object, prog, attr, { pid: scope.pid ?? -1, cpu }));
  } catch (err) {
    for (const link of links) link.destroy();
    throw err;
  }
  return links;
}

/** Parses /sys/devices/system/cpu/online ("0-3,5,7-8"). */
export function onlineCpus(list = readFileSync('/sys/devices/system/cpu/online', 'utf8')): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    if (!part) continue;
    const [from, to] = part.split('-').map(Number);
    for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu);
  }
  return cpus;
}
