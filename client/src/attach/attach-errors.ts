/**
 * Turns a native attach failure into an LbcError: LBC_ERR_ATTACH_UNSUPPORTED when the kernel lacks
 * the mechanism (said in words, with the alternative), LBC_ERR_ATTACH with the errno name and the
 * target otherwise.
 */
import { LbcError } from '@lbc/contract';
import { asNativeError, errnoName } from './native-error.ts';
import { isKprobeSection, kprobesAvailable } from './kernel-support.ts';

export type AttachKind = 'section' | 'kprobe' | 'kretprobe' | 'uprobe' | 'uretprobe' | 'tracepoint' | 'raw_tp' | 'perf_event' | 'xdp' | 'cgroup' | 'netns' | 'trace' | 'iter' | 'socket' | 'tc' | 'usdt' | 'uprobe_multi' | 'kprobe_multi' | 'lsm' | 'struct_ops';

export interface AttachTarget {
  prog: string;
  kind: AttachKind;
  /** Human-readable target: "do_sys_open", "/lib/x86_64-linux-gnu/libc.so.6:getpid", "sched:sched_switch". */
  target: string;
  /** The program's ELF section, when the kind is decided by it. */
  section?: string;
}

export function noKprobesError(target: AttachTarget, cause?: unknown): LbcError {
  return new LbcError(
    'LBC_ERR_ATTACH_UNSUPPORTED',
    `${target.prog} → ${target.target}: this kernel has no kprobes (built without CONFIG_KPROBES: no kprobe PMU and no kprobe_events in tracefs). ` +
      'Attach to a tracepoint (SEC("tracepoint/...")), a raw tracepoint (SEC("raw_tp/...")) or a BTF tracepoint (SEC("tp_btf/...")) instead.',
    { prog: target.prog, kind: target.kind, target: target.target, alternatives: ['tracepoint', 'raw_tp', 'tp_btf'] },
    cause === undefined ? undefined : { cause },
  );
}

export function attachError(err: unknown, target: AttachTarget): LbcError {
  const native = asNativeError(err);
  const name = errnoName(native.errno);
  const hint =
    native.errno === 2 /* ENOENT */
      ? ' (the target does not exist)'
      : native.errno === 1 || native.errno === 13 /* EPERM, EACCES */
        ? ' (run as root: CAP_BPF + CAP_PERFMON)'
        : native.errno === 95 && target.kind === 'section' /* EOPNOTSUPP */
          ? ' (the section names no attach target: attach this program by hand)'
          : native.errno === 17 /* EEXIST */
            ? ' (the program is attached there already: a program attaches to a target once; lbc.attach() attaches every program, once)'
            : '';
  return new LbcError(
    'LBC_ERR_ATTACH',
    `${target.prog} → ${target.target}: ${name}${hint}`,
    { prog: target.prog, kind: target.kind, target: target.target, errno: native.errno, errnoName: name, ...(native.log ? { log: native.log.trim() } : {}) },
    { cause: err },
  );
}

/** Runs a native attach, translating its failure; kprobe kinds check the kernel on failure. */
export function translateAttach<T>(target: AttachTarget, attach: () => T): T {
  try {
    return attach();
  } catch (err) {
    if (usesKprobes(target) && !kprobesAvailable()) throw noKprobesError(target, err);
    throw attachError(err, target);
  }
}

function usesKprobes(target: AttachTarget): boolean {
  if (target.kind === 'kprobe' || target.kind === 'kretprobe') return true;
  return target.kind === 'section' && target.section !== undefined && isKprobeSection(target.section);
}
