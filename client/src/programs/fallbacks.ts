/**
 * Program twins, as libbpf-tools writes them: the same probe twice, once as fentry/fexit (cheap,
 * needs BPF trampolines) and once as a kprobe or tracepoint that older or stricter kernels run.
 * Before load, the side this kernel cannot run is turned off (autoload = false).
 *
 * Twins are found by:
 * - the kernel function: SEC("fentry/F") with SEC("kprobe/F"), SEC("fexit/F") with SEC("kretprobe/F");
 * - the name: programs whose names differ only in a kind suffix, e.g. `on_open_fentry` and
 *   `on_open_tp` (suffixes: _fentry _fexit _kprobe _kretprobe _tp _tracepoint _raw_tp _rawtp _tp_btf _btf);
 * - or explicitly: { twins: { on_open_fentry: 'on_open_tp' } }.
 */
import type { KernelFeatures } from './kernel-features.ts';

export interface ProgramFacts {
  name: string;
  section: string;
  autoload: boolean;
}

export interface FallbackDecision {
  /** The program turned off. */
  prog: string;
  /** The twin that runs instead. */
  instead: string;
  reason: string;
}

const TRAMPOLINE = /^(fentry|fexit)(?:\.s)?\/(.+)$/;
const KPROBE = /^(kprobe|kretprobe)\/(.+)$/;
const KIND_SUFFIX = /_(fentry|fexit|kprobe|kretprobe|tp|tracepoint|raw_tp|rawtp|tp_btf|btf)$/;

function stem(name: string): string | undefined {
  return KIND_SUFFIX.test(name) ? name.replace(KIND_SUFFIX, '') : undefined;
}

/** Every trampoline program and its twins (explicit ones first). */
export function findTwins(programs: ProgramFacts[], explicit: Record<string, string> = {}): Map<string, string[]> {
  const twins = new Map<string, string[]>();
  const add = (primary: string, twin: string) => {
    const list = twins.get(primary) ?? [];
    if (!list.includes(twin)) list.push(twin);
    twins.set(primary, list);
  };
  for (const [primary, twin] of Object.entries(explicit)) add(primary, twin);
  for (const p of programs) {
    const t = TRAMPOLINE.exec(p.section);
    if (!t) continue;
    const [, kind, func] = t;
    const pStem = stem(p.name);
    for (const q of programs) {
      if (q === p || TRAMPOLINE.test(q.section)) continue;
      const k = KPROBE.exec(q.section);
      const sameFunction = k !== null && k[2] === func && (k[1] === 'kprobe') === (kind === 'fentry');
      const sameStem = pStem !== undefined && stem(q.name) === pStem;
      if (sameFunction || sameStem) add(p.name, q.name);
    }
  }
  return twins;
}

/**
 * Which programs to turn off: a trampoline program this kernel cannot attach gives way to its
 * twins; one it can attach turns its twins off. Programs already set not to load are left alone,
 * and a trampoline program without a twin loads as written (its load error says what to use).
 */
export function planFallbacks(programs: ProgramFacts[], kernel: Pick<KernelFeatures, 'trampoline'>, explicit?: Record<string, string>): FallbackDecision[] {
  const byName = new Map(programs.map((p) => [p.name, p]));
  const decisions: FallbackDecision[] = [];
  for (const [primary, twinNames] of findTwins(programs, explicit)) {
    const p = byName.get(primary);
    const twins = twinNames.map((n) => byName.get(n)).filter((q): q is ProgramFacts => q !== undefined && q.autoload);
    if (!p || !p.autoload || twins.length === 0) continue;
    const t = TRAMPOLINE.exec(p.section);
    const kind = (t?.[1] ?? 'fentry') as 'fentry' | 'fexit';
    const func = t?.[2] ?? '';
    if (func && kernel.trampoline(func, kind)) {
      for (const q of twins) decisions.push({ prog: q.name, instead: p.name, reason: `${kind} on ${func} attaches on this kernel` });
    } else {
      decisions.push({
        prog: p.name,
        instead: twins.map((q) => q.name).join(', '),
        reason: func ? `this kernel cannot attach ${kind} programs on ${func} (no BPF trampoline for it)` : 'not a trampoline program with a known target',
      });
    }
  }
  return decisions;
}
