/**
 * Which functions the BPF engine attaches to: FUNC, the functions it calls directly (decoded from
 * its code in /proc/kcore, kernel-text.ts), theirs, down to --depth; plus --extra patterns for what
 * direct calls cannot show (calls through pointers). A function is attached only when fentry can
 * take it: listed in available_filter_functions, named once in kallsyms, with a BTF prototype, and
 * not one the engine's own BPF helpers run (locks, RCU, the clock, BPF itself): a probe there would
 * recurse into itself or deadlock.
 */
import { readFileSync } from 'node:fs';
import type { Btf } from '@lbc/btf';
import { functionProto } from '../trace/translate.ts';
import { directTargets, type KernelCore, type KernelSymbols } from './kernel-text.ts';
import { matcher } from './tree-filter.ts';

export const HELPER_FUNCTIONS = /^(_raw_|__raw_|do_raw_|queued_|native_|bpf_|__bpf|htab_|__htab|ringbuf|__ringbuf|migrate_|rcu_|__rcu|preempt_|lock_|__lock|lockdep|ktime_get|ftrace|__ftrace|trace_|__trace|__fentry|__x86_|__sanitizer|kasan|__kasan|irq_|local_irq|arch_|perf_|__perf|rethook|fprobe|kprobe|__kprobe|__cfi|__pfx)|spin_(un)?lock|_lock_irq|rcu_read|copy_from_kernel_nofault|pcpu_freelist|strscpy|get_task_comm|debug_smp_processor_id|check_preemption_disabled/;

export interface AttachFunction {
  name: string;
  /** The level it was found at (0: FUNC). */
  depth: number;
  nargs: number;
}

export interface AttachPlan {
  functions: AttachFunction[];
  /** Why callees were left out, with their names. */
  skipped: Record<string, string[]>;
}

export function traceableFunctions(root: string): Set<string> {
  const names = new Set<string>();
  for (const line of readFileSync(`${root}/available_filter_functions`, 'utf8').split('\n')) {
    const name = line.split(/\s/)[0];
    if (name) names.add(name);
  }
  return names;
}

export interface CalleeSources {
  symbols: KernelSymbols;
  core: KernelCore;
  traceable: Set<string>;
  btf: Btf;
  arch: 'x86_64' | 'aarch64';
}

export interface CalleeOptions {
  depth: number;
  maxFunctions: number;
  exclude?: string[];
  extra?: string[];
}

/** A prototype fentry can read: no struct passed by value (it takes several slots), not variadic. */
function slots(btf: Btf, name: string): number | undefined {
  const proto = functionProto(btf, name);
  if (!proto) return undefined;
  let n = 0;
  for (const p of proto.params) {
    if (!p.type) return undefined; // `...`
    const t = btf.resolve(p.type);
    if (t.kind === 'struct' || t.kind === 'union') return undefined;
    n++;
  }
  return n;
}

export function planAttach(func: string, src: CalleeSources, options: CalleeOptions): AttachPlan {
  const skipped: Record<string, string[]> = {};
  const skip = (why: string, name: string) => {
    const list = (skipped[why] ??= []);
    if (!list.includes(name)) list.push(name);
  };
  const excluded = matcher(options.exclude);
  const functions: AttachFunction[] = [];
  const seen = new Set<string>([func]);
  const usable = (name: string): number | undefined => {
    if (HELPER_FUNCTIONS.test(name)) return skip("called by the engine's own BPF helpers (locks, RCU, clock, BPF): use --engine ftrace to see them", name), undefined;
    if (!src.traceable.has(name)) return skip('not in available_filter_functions (notrace or not traceable)', name), undefined;
    if (src.symbols.ambiguous.has(name)) return skip('named more than once in kallsyms (fentry would take the first)', name), undefined;
    const n = slots(src.btf, name);
    if (n === undefined) return skip('no BTF prototype fentry can read (compiler clone, struct by value or variadic)', name), undefined;
    return n;
  };
  const rootArgs = slots(src.btf, func);
  functions.push({ name: func, depth: 0, nargs: rootArgs ?? 0 });
  let level = [func];
  for (let depth = 1; depth <= options.depth && level.length; depth++) {
    const next: string[] = [];
    for (const caller of level) {
      const f = src.symbols.byName.get(caller);
      const code = f && src.core.read(f.addr, f.size);
      if (!f || !code) continue;
      for (const target of directTargets(code, f.addr, src.arch)) {
        const name = src.symbols.byAddr.get(target);
        if (!name || seen.has(name) || target === f.addr) continue;
        seen.add(name);
        if (excluded?.(name)) continue;
        const n = usable(name);
        if (n === undefined) continue;
        if (functions.length >= options.maxFunctions) {
          skip(`over the cap of ${options.maxFunctions} attached functions (--max-funcs)`, name);
          continue;
        }
        functions.push({ name, depth, nargs: n });
        next.push(name);
      }
    }
    level = next;
  }
  const extra = matcher(options.extra);
  if (extra) {
    for (const name of src.traceable) {
      if (seen.has(name) || !extra(name)) continue;
      seen.add(name);
      const n = usable(name);
      if (n === undefined) continue;
      if (functions.length >= options.maxFunctions) {
        skip(`over the cap of ${options.maxFunctions} attached functions (--max-funcs)`, name);
        continue;
      }
      functions.push({ name, depth: 1, nargs: n });
    }
  }
  return { functions, skipped };
}
