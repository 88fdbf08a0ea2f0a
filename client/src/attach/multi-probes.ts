/**
 * kprobe.multi / uprobe.multi: one link for every function matching a glob pattern ('tcp_*',
 * 'vfs_*'; in a binary 'handle_*'). kprobe.multi links ride on fprobe (CONFIG_FPROBE) and stand
 * for kprobes: a kernel without either is told so in words.
 */
import os from 'node:os';
import { LbcError } from '@lbc/contract';
import type { NativeLink, NativeObject, NativeProgramInfo } from '../native/types.ts';
import { resolveLibrary } from '../elf/index.ts';
import { noKprobesError, translateAttach } from './attach-errors.ts';
import { kprobesAvailable } from './kernel-support.ts';
import { asNativeError, errnoName } from './native-error.ts';
import { requireProgram } from './program-lookup.ts';
import { requireKind } from './program-kind.ts';

const KPROBE_MULTI_SECTION = /^k(ret)?probe\.multi(\/|$)/;
const UPROBE_MULTI_SECTION = /^u(ret)?probe\.multi(\.s)?(\/|$)/;
// How kernels without fprobe refuse the link: EOPNOTSUPP, or the kernel-internal ENOTSUPP.
const NO_FPROBE = new Set([95, 524]);

export interface MultiProbeOptions {
  /** Fire on return (kretprobe.multi / uretprobe.multi). Default: the section's. */
  retprobe?: boolean;
}

export function attachKprobeMulti(object: NativeObject, prog: string, pattern: string, opts: MultiProbeOptions = {}): NativeLink {
  const info = requireProgram(object, prog);
  requireKind(info, KPROBE_MULTI_SECTION, 'attachKprobeMulti()', 'kprobe.multi program');
  requirePattern(prog, pattern);
  const retprobe = opts.retprobe ?? info.section.startsWith('kretprobe');
  const target = { prog, kind: 'kprobe_multi' as const, target: `${retprobe ? 'kretprobe' : 'kprobe'}.multi ${pattern}` };
  if (!kprobesAvailable()) throw noKprobesError(target);
  try {
    return translateAttach(target, () => object.attachKprobeMulti(prog, pattern, retprobe));
  } catch (err) {
    const errno = asNativeError((err as Error).cause).errno;
    if (!NO_FPROBE.has(errno ?? 0)) throw err;
    throw new LbcError(
      'LBC_ERR_ATTACH_UNSUPPORTED',
      `${prog} → ${target.target}: this kernel cannot make kprobe.multi links (built without CONFIG_FPROBE). ` +
        'Attach one function at a time with SEC("kprobe/FUNC"), or use tracepoints.',
      { prog, kind: target.kind, target: target.target, errno, alternatives: ['kprobe', 'tracepoint'] },
      { cause: err },
    );
  }
}

/** `binary` is a path or a library name; pid -1 traces every process running it. */
export function attachUprobeMulti(object: NativeObject, prog: string, pid: number, binary: string, pattern: string, opts: MultiProbeOptions = {}): NativeLink {
  const info = requireProgram(object, prog);
  requireKind(info, UPROBE_MULTI_SECTION, 'attachUprobeMulti()', 'uprobe.multi program');
  requirePattern(prog, pattern);
  const path = resolveLibrary(binary);
  const retprobe = opts.retprobe ?? info.section.startsWith('uretprobe');
  const target = { prog, kind: 'uprobe_multi' as const, target: `${path}:${pattern}${pid >= 0 ? ` (pid ${pid})` : ''}` };
  return translateAttach(target, () => object.attachUprobeMulti(prog, pid, path, pattern, retprobe));
}

function requirePattern(prog: string, pattern: string): void {
  if (typeof pattern !== 'string' || pattern === '') {
    throw new LbcError('LBC_ERR_ATTACH_TARGET', `${prog}: a multi-probe needs a function name pattern ('tcp_*', 'vfs_read*')`, { prog });
  }
}

/**
 * A kprobe.multi program refused at load by a kernel older than 5.18, which has no kprobe.multi
 * links (its verifier stops at the first helper it lacks for them, bpf_get_func_ip on 5.10's
 * kprobes: "invalid func unknown#173"). Undefined when the program is not kprobe.multi or the
 * kernel is new enough: then the verifier's own words are the cause.
 */
export function kprobeMultiLoadRefusal(prog: NativeProgramInfo, objectName: string, errno: number | undefined, cause: unknown, release = os.release()): LbcError | undefined {
  if (!KPROBE_MULTI_SECTION.test(prog.section)) return undefined;
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m || Number(m[1]) * 1000 + Number(m[2]) >= 5018) return undefined;
  return new LbcError(
    'LBC_ERR_ATTACH_UNSUPPORTED',
    `${objectName}: program ${prog.name} (SEC("${prog.section}")) is kprobe.multi, which needs Linux 5.18 or later; this kernel is ${release} ` +
      `(refused at load: ${errnoName(errno)}). Attach one function at a time with SEC("kprobe/FUNC").`,
    { object: objectName, prog: prog.name, section: prog.section, kind: 'kprobe_multi', errno, release, alternatives: ['kprobe'] },
    { cause },
  );
}
