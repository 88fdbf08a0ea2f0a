/** Tracepoints: classic (perf), raw, and BTF-typed (tp_btf, like fentry/fexit/lsm via attach_trace). */
import type { NativeLink, NativeObject } from '../native/types.ts';
import { translateAttach } from './attach-errors.ts';
import { requireProgram } from './program-lookup.ts';

export function attachTracepoint(object: NativeObject, prog: string, category: string, name: string): NativeLink {
  requireProgram(object, prog);
  return translateAttach({ prog, kind: 'tracepoint', target: `${category}:${name}` }, () => object.attachTracepoint(prog, category, name));
}

export function attachRawTracepoint(object: NativeObject, prog: string, name: string): NativeLink {
  requireProgram(object, prog);
  return translateAttach({ prog, kind: 'raw_tp', target: name }, () => object.attachRawTracepoint(prog, name));
}

/** fentry/fexit/fmod_ret/tp_btf/lsm: the target is fixed at load by the section name. */
export function attachTrace(object: NativeObject, prog: string): NativeLink {
  const info = requireProgram(object, prog);
  return translateAttach({ prog, kind: 'trace', target: `SEC("${info.section}")` }, () => object.attachTrace(prog));
}
