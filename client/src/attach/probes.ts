/** kprobes and uprobes attached by hand. */
import type { NativeLink, NativeObject } from '../native/types.ts';
import { resolveLibrary, resolveSymbolOffset } from '../elf/index.ts';
import { noKprobesError, translateAttach } from './attach-errors.ts';
import { requireProgram } from './program-lookup.ts';
import { kprobesAvailable } from './kernel-support.ts';

export function attachKprobe(object: NativeObject, prog: string, func: string): NativeLink {
  return kprobe(object, prog, func, false);
}

export function attachKretprobe(object: NativeObject, prog: string, func: string): NativeLink {
  return kprobe(object, prog, func, true);
}

function kprobe(object: NativeObject, prog: string, func: string, retprobe: boolean): NativeLink {
  requireProgram(object, prog);
  const target = { prog, kind: retprobe ? ('kretprobe' as const) : ('kprobe' as const), target: func };
  if (!kprobesAvailable()) throw noKprobesError(target);
  return translateAttach(target, () => object.attachKprobe(prog, retprobe, func));
}

/**
 * Attaches to a user function. `binary` is a path or a library name ('libc'); the function is a
 * symbol ('malloc', 'malloc+0x10'), a file offset, or given in the binary as 'libc:malloc'.
 * pid -1 traces every process, 0 this one.
 */
export function attachUprobe(object: NativeObject, prog: string, pid: number, binary: string, symbolOrOffset?: string | number): NativeLink {
  return uprobe(object, prog, pid, binary, symbolOrOffset, false);
}

export function attachUretprobe(object: NativeObject, prog: string, pid: number, binary: string, symbolOrOffset?: string | number): NativeLink {
  return uprobe(object, prog, pid, binary, symbolOrOffset, true);
}

function uprobe(object: NativeObject, prog: string, pid: number, binary: string, symbolOrOffset: string | number | undefined, retprobe: boolean): NativeLink {
  requireProgram(object, prog);
  return uprobeAtOffset(object, prog, pid, uprobeLocation(binary, symbolOrOffset), retprobe);
}

export function uprobeAtOffset(object: NativeObject, prog: string, pid: number, location: UprobeLocation, retprobe: boolean): NativeLink {
  const target = { prog, kind: retprobe ? ('uretprobe' as const) : ('uprobe' as const), target: `${location.path}:${location.label}${pid >= 0 ? ` (pid ${pid})` : ''}` };
  return translateAttach(target, () => object.attachUprobe(prog, retprobe, pid, location.path, location.offset));
}

export interface UprobeLocation {
  path: string;
  offset: number;
  /** How the user named it: "malloc", "malloc+0x10", "0x1234". */
  label: string;
}

export function uprobeLocation(binary: string, symbolOrOffset: string | number | undefined): UprobeLocation {
  let spec = symbolOrOffset;
  let file = binary;
  if (spec === undefined) {
    const colon = binary.lastIndexOf(':');
    if (colon > 0) {
      file = binary.slice(0, colon);
      spec = binary.slice(colon + 1);
    } else {
      spec = 0;
    }
  }
  const path = resolveLibrary(file);
  if (typeof spec === 'number') return { path, offset: spec, label: `0x${spec.toString(16)}` };
  if (/^(0x[0-9a-f]+|\d+)$/i.test(spec)) return { path, offset: Number(spec), label: spec };
  const [symbol, extra] = spec.split('+');
  const offset = resolveSymbolOffset(path, symbol) + (extra ? Number(extra) : 0);
  return { path, offset, label: spec };
}
