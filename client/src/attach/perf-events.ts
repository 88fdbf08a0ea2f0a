/** Programs on perf events (SEC("perf_event")): one CPU, or every online CPU. */
import { readFileSync } from 'node:fs';
import type { NativeLink, NativeObject, PerfEventAttrFields } from '../native/types.ts';
import { loadNative } from '../native/index.ts';
import { attachError, translateAttach } from './attach-errors.ts';
import { requireProgram } from './program-lookup.ts';

/**
 * perf_event_attr (man perf_event_open): PERF_TYPE_* and its config; a period or a frequency; what
 * to count and sample. pylcc's snake_case names (`sample_period`, `bp_addr`, `exclude_kernel`, ...)
 * are accepted as well.
 */
export type PerfEventAttr = PerfEventAttrFields;

type Flag = boolean | 0 | 1;
/** pylcc's spelling of the same fields (its perfEvent dicts), flags as 0/1. */
export interface PylccPerfEventAttr {
  type: number;
  config?: number | bigint;
  size?: number;
  sample_period?: number | bigint;
  sample_freq?: number | bigint;
  sample_type?: number | bigint;
  wakeup_events?: number;
  disabled?: Flag;
  inherit?: Flag;
  exclude_user?: Flag;
  exclude_kernel?: Flag;
  exclude_hv?: Flag;
  exclude_idle?: Flag;
  exclude_host?: Flag;
  exclude_guest?: Flag;
  exclude_callchain_kernel?: Flag;
  exclude_callchain_user?: Flag;
  precise_ip?: number;
  bp_type?: number;
  bp_addr?: number | bigint;
  bp_len?: number | bigint;
  config1?: number | bigint;
  config2?: number | bigint;
}

/** PERF_TYPE_* (linux/perf_event.h). */
export const PERF_TYPE = { HARDWARE: 0, SOFTWARE: 1, TRACEPOINT: 2, HW_CACHE: 3, RAW: 4, BREAKPOINT: 5 } as const;
/** HW_BREAKPOINT_* (linux/hw_breakpoint.h): types and lengths. */
export const HW_BREAKPOINT = { R: 1, W: 2, RW: 3, X: 4, LEN_1: 1, LEN_2: 2, LEN_4: 4, LEN_8: 8 } as const;

const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const FLAGS = new Set(['disabled', 'inherit', 'excludeUser', 'excludeKernel', 'excludeHv', 'excludeIdle', 'excludeHost', 'excludeGuest', 'excludeCallchainKernel', 'excludeCallchainUser']);

/** camelCase fields for the addon; pylcc's 0/1 flags as booleans; `size` (pylcc's PERF_ATTR_SIZE_VER5) is the addon's business. */
export function normalizeAttr(attr: PerfEventAttr | PylccPerfEventAttr): PerfEventAttr {
  if (attr === null || typeof attr !== 'object') throw new TypeError(`perf event attr: expected an object of perf_event_attr fields ({ type, config, ... }), got ${attr === null ? 'null' : typeof attr}`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attr)) {
    if (key === 'size' || value === undefined) continue;
    const name = camel(key);
    out[name] = FLAGS.has(name) ? Boolean(value) : value;
  }
  return out as unknown as PerfEventAttr;
}

function describe(attr: PerfEventAttr): string {
  if (attr.type === PERF_TYPE.BREAKPOINT) return `breakpoint type ${attr.bpType ?? 0} at 0x${BigInt(attr.bpAddr ?? 0).toString(16)} len ${attr.bpLen ?? 0}`;
  return `perf event type ${attr.type} config ${attr.config ?? 0}`;
}

export interface PerfEventScope {
  /** -1 (default): every process on `cpu`. */
  pid?: number;
  /** -1: every CPU for `pid` (needs pid >= 0). */
  cpu?: number;
}

/** Opens the perf event and attaches; the link owns the event (destroy closes it). */
export function attachPerfEvent(object: NativeObject, prog: string, given: PerfEventAttr | PylccPerfEventAttr, scope: PerfEventScope = {}): NativeLink {
  requireProgram(object, prog);
  const attr = normalizeAttr(given);
  const native = loadNative();
  const pid = scope.pid ?? -1;
  const cpu = scope.cpu ?? 0;
  const target = { prog, kind: 'perf_event' as const, target: `${describe(attr)} (pid ${pid}, cpu ${cpu})` };
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
export function attachPerfEventAllCpus(object: NativeObject, prog: string, attr: PerfEventAttr | PylccPerfEventAttr, scope: { pid?: number } = {}): NativeLink[] {
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
