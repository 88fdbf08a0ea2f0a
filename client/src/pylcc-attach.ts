/**
 * pylcc's attach calls, program name first (ClbcBase's `attachKprobe(function, symbol)` and kin),
 * for code ported from pylcc and code written against lbc's first API. Attaching belongs to the
 * program: each of these is `lbc.programs[prog].attachX(...)` and nothing more. This file is the
 * whole alias layer: delete it (and `extends PylccAttach` in lbc.ts) when the aliases go.
 */
import type { NativeLink } from './native/types.ts';
import type { LbcProgram } from './programs/index.ts';
import type { PerfEventAttr, PerfEventScope, PylccPerfEventAttr } from './attach/index.ts';

export abstract class PylccAttach {
  /** One program by C name; LBC_ERR_PROGRAM_NOT_FOUND lists the others. */
  abstract program(name: string): LbcProgram;

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachKprobe(func)`. */
  attachKprobe(prog: string, func: string): NativeLink {
    return this.program(prog).attachKprobe(func);
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachKretprobe(func)`. */
  attachKretprobe(prog: string, func: string): NativeLink {
    return this.program(prog).attachKretprobe(func);
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachUprobe(pid, binary, symbolOrOffset)`. */
  attachUprobe(prog: string, pid: number, binary: string, symbolOrOffset?: string | number): NativeLink {
    return this.program(prog).attachUprobe(pid, binary, symbolOrOffset);
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachUretprobe(pid, binary, symbolOrOffset)`. */
  attachUretprobe(prog: string, pid: number, binary: string, symbolOrOffset?: string | number): NativeLink {
    return this.program(prog).attachUretprobe(pid, binary, symbolOrOffset);
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachTracepoint(category, name)`. */
  attachTracepoint(prog: string, category: string, name: string): NativeLink {
    return this.program(prog).attachTracepoint(category, name);
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachRawTracepoint(name)`. */
  attachRawTracepoint(prog: string, name: string): NativeLink {
    return this.program(prog).attachRawTracepoint(name);
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachTrace()`. */
  attachTrace(prog: string): NativeLink {
    return this.program(prog).attachTrace();
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachPerfEvent(attr, scope)`. */
  attachPerfEvent(prog: string, attr: PerfEventAttr | PylccPerfEventAttr, scope: PerfEventScope = {}): NativeLink {
    return this.program(prog).attachPerfEvent(attr, scope);
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachPerfEventAllCpus(attr, scope)`. */
  attachPerfEventAllCpus(prog: string, attr: PerfEventAttr | PylccPerfEventAttr, scope: { pid?: number } = {}): NativeLink[] {
    return this.program(prog).attachPerfEventAllCpus(attr, scope);
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachXdp(iface)`. */
  attachXdp(prog: string, iface: number | string): NativeLink {
    return this.program(prog).attachXdp(iface);
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachCgroup(cgroup)`. */
  attachCgroup(prog: string, cgroup: number | string): NativeLink {
    return this.program(prog).attachCgroup(cgroup);
  }

  /** @deprecated pylcc's form: use `lbc.programs[prog].attachNetns(netns)`. */
  attachNetns(prog: string, netns: number | string): NativeLink {
    return this.program(prog).attachNetns(netns);
  }
}
