/**
 * What libbpf-tools' trace_helpers ask before they choose programs: tracepoint_exists,
 * kprobe_exists, fentry_can_attach and probe_tp_btf, answered for the running kernel. Each says
 * "can a program of that kind be attached here", so a tool can pick a fallback (kprobe for fentry,
 * a tracepoint for a kprobe whose function was inlined or renamed) before it loads anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kprobesAvailable } from '../attach/kernel-support.ts';
import { loadNative } from '../native/index.ts';
import { KERNEL_BTF_PATH } from '../target/detect-target.ts';

const TRACEFS_ROOTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

function tracefsRoot(): string | undefined {
  return TRACEFS_ROOTS.find((root) => existsSync(join(root, 'events')));
}

/** tracepoint_exists: tracefs has events/CATEGORY/EVENT (false where tracefs is not mounted). */
export function tracepointExists(category: string, event: string): boolean {
  const root = tracefsRoot();
  if (!root || !isPlainName(category) || !isPlainName(event)) return false;
  return existsSync(join(root, 'events', category, event));
}

/**
 * kprobe_exists: this kernel has kprobes and `func` is one of its traceable functions, as
 * libbpf-tools reads them: available_filter_functions, or /proc/kallsyms' text symbols where that
 * file is missing. Functions the compiler renamed ("finish_task_switch.isra.0") are listed under
 * their new name only: look those up with kprobeFunctions().
 */
export function kprobeExists(func: string): boolean {
  return kprobeFunctions(func)[0] === func;
}

/**
 * The traceable functions named `func` or a compiler clone of it (`func.isra.0`, `func.constprop.0`;
 * `func.cold` excluded: it is not an entry point), the exact name first. Empty where kprobes are missing.
 */
export function kprobeFunctions(func: string): string[] {
  if (!kprobesAvailable()) return [];
  return kprobeFunctionsIn(readFirst([...FILTER_FUNCTIONS, '/proc/kallsyms']), func);
}

/** The lookup kprobeExists/kprobeFunctions make, over the text of available_filter_functions or /proc/kallsyms. */
export function kprobeFunctionsIn(text: string, func: string): string[] {
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    const name = functionName(line);
    if (name === func || (name !== undefined && name.startsWith(`${func}.`) && !name.endsWith('.cold') && !/\.cold\.\d+$/.test(name))) found.add(name);
  }
  return orderExactFirst([...found], func);
}

function orderExactFirst(names: string[], func: string): string[] {
  return names.sort((a, b) => (a === func ? -1 : b === func ? 1 : a.localeCompare(b)));
}

/**
 * fentry_can_attach: a no-op fentry (or fexit) program on `func` loads and attaches here. Stronger
 * than libbpf-tools' (which only loads): some kernels load it and refuse the trampoline at attach
 * (x86 before 6.5 for functions of more than 6 arguments, arm64 6.1 for every function).
 */
export function fentryCanAttach(func: string, kind: 'fentry' | 'fexit' = 'fentry'): boolean {
  // As the other probes: a name that cannot be a kernel function is not one this kernel attaches to.
  if (!isPlainName(func)) return false;
  if (kind !== 'fentry' && kind !== 'fexit') throw new TypeError(`fentryCanAttach(${JSON.stringify(func)}, kind): kind is 'fentry' or 'fexit', got ${JSON.stringify(kind)}`);
  return loadNative().probeTrampoline(func, kind).ok;
}

/**
 * probe_tp_btf: a tp_btf program on tracepoint `name` ("sched_switch") can be used here: the
 * kernel's BTF has the tracepoint's `btf_trace_<name>` typedef, which libbpf resolves
 * SEC("tp_btf/NAME") against. Those typedefs came with tp_btf itself (Linux 5.5), so their presence
 * answers for the program type too (libbpf_probe_bpf_prog_type cannot: a tracing program needs a
 * target). Unlike fentry, tp_btf needs no trampoline.
 */
export function probeTpBtf(name: string, btfPath = KERNEL_BTF_PATH): boolean {
  if (!isPlainName(name) || !existsSync(btfPath)) return false;
  // The typedef's name is in BTF's string section only because the typedef is there.
  return readFileSync(btfPath).includes(Buffer.from(`\0btf_trace_${name}\0`));
}

function isPlainName(name: string): boolean {
  return typeof name === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.]*$/.test(name);
}

// available_filter_functions: "name" or "name [module]"; kallsyms: "addr t name [\tmodule]" (text only).
function functionName(line: string): string | undefined {
  const fields = line.split(/\s+/).filter(Boolean);
  if (fields.length === 0) return undefined;
  if (fields.length >= 3 && /^[0-9a-f]+$/i.test(fields[0]!) && fields[1]!.length === 1) {
    return 'tTwW'.includes(fields[1]!) ? fields[2] : undefined;
  }
  return fields[0];
}

const FILTER_FUNCTIONS = TRACEFS_ROOTS.map((root) => join(root, 'available_filter_functions'));

function readFirst(paths: readonly string[]): string {
  for (const path of paths) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      // Not there (or not readable): the next one.
    }
  }
  return '';
}
