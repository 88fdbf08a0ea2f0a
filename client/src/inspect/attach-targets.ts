/**
 * What a tracing (fentry/fexit/fmod_ret), EXT (freplace) or LSM program is attached to: a kernel
 * function, or a function of another BPF program. bpf_inspect.py reads it from kernel memory; lbc
 * asks the kernel, which tells it in a tracing link's info (target_obj_id, target_btf_id) and in the
 * program's own info (attach_btf_obj_id, attach_btf_id: the target named at load) on kernels that
 * have those fields. Where neither is there, the report says so instead of guessing.
 */
import type { KernelLinkInfo, KernelProgramDetail } from '../native/types.ts';
import { programFullName } from './btf-names.ts';
import type { KernelView } from './kernel-view.ts';

export const PROG_TYPE = { TRACING: 26, EXT: 28, LSM: 29 } as const;

/** libbpf's attach type names for trampolines, as users write them in SEC(). */
const ATTACH_WORDS: Record<string, string> = { trace_fentry: 'fentry', trace_fexit: 'fexit', modify_return: 'fmod_ret', lsm_mac: 'lsm', lsm_cgroup: 'lsm_cgroup', trace_iter: 'iter' };

export interface ProgramTarget {
  /** How it attaches: fentry, fexit, fmod_ret, freplace, lsm. */
  attach: string;
  /** A function of a loaded BPF program, a kernel (or module) function, or ids lbc cannot place. */
  kind: 'program' | 'kernel' | 'unknown';
  progId?: number;
  /** The target program's full name. */
  progName?: string;
  /** The target function's name, from the target's BTF. */
  func?: string;
  /** The kernel's ids: target_obj_id (a program id, or a BTF object id) and the BTF type id of the function. */
  objId: number;
  btfTypeId: number;
  /** The BTF object of a kernel target: "vmlinux" or a module's name. */
  btfName?: string;
  /** Where the kernel told it: a link's info, or the program's own info (the target it was loaded for). */
  source: 'link' | 'prog';
  linkId?: number;
}

export interface TargetReport {
  targets: ProgramTarget[];
  /** Why there is no target, where the kernel does not report it. */
  note?: string;
}

export function hasAttachTarget(prog: KernelProgramDetail): boolean {
  return prog.type === PROG_TYPE.TRACING || prog.type === PROG_TYPE.EXT || prog.type === PROG_TYPE.LSM;
}

export function attachWord(prog: KernelProgramDetail, linkAttachType?: string): string {
  if (prog.type === PROG_TYPE.EXT) return 'freplace';
  return (linkAttachType && ATTACH_WORDS[linkAttachType]) ?? linkAttachType ?? (prog.type === PROG_TYPE.LSM ? 'lsm' : 'tracing');
}

export const NOT_REPORTED =
  'this kernel does not report the target: its tracing link info has no target_obj_id/target_btf_id and its program info no attach_btf_obj_id/attach_btf_id (Linux 5.10 has neither)';

export function programTargets(view: KernelView, prog: KernelProgramDetail, links: readonly KernelLinkInfo[]): TargetReport {
  if (!hasAttachTarget(prog)) return { targets: [] };
  const targets: ProgramTarget[] = [];
  for (const link of links) {
    if (link.typeName !== 'tracing' || !link.targetObjId) continue;
    targets.push({ ...place(view, prog, link.targetObjId, link.targetBtfId ?? 0), attach: attachWord(prog, link.attachType), source: 'link', linkId: link.id });
  }
  if (targets.length === 0 && prog.attachBtfId) {
    targets.push({ ...place(view, prog, prog.attachBtfObjId ?? 0, prog.attachBtfId), attach: attachWord(prog, links[0]?.attachType), source: 'prog' });
  }
  if (targets.length > 0) return { targets };
  if (links.length === 0 && prog.attachBtfId !== undefined) return { targets, note: 'not attached' };
  return { targets, note: NOT_REPORTED };
}

type Placed = Omit<ProgramTarget, 'attach' | 'source' | 'linkId'>;

/**
 * target_obj_id is a program id when the target is a BPF program and a BTF object id when it is a
 * kernel function: a program that has a function of that BTF type id is the one; a kernel BTF object
 * is the other. A program's BTF object (some kernels name that instead of the program) leads to the
 * programs loaded with it.
 */
function place(view: KernelView, prog: KernelProgramDetail, objId: number, btfTypeId: number): Placed {
  const base = { objId, btfTypeId };
  const asProgram = (target: KernelProgramDetail): Placed => ({
    ...base,
    kind: 'program',
    progId: target.id,
    progName: programFullName(view, target),
    func: view.typeName(target.btfId, btfTypeId),
  });
  if (!objId) return { ...base, kind: 'unknown' };
  const byId = view.programOrNull(objId);
  if (byId && (prog.type === PROG_TYPE.EXT || byId.funcInfo.some((f) => f.typeId === btfTypeId))) return asProgram(byId);
  const btf = view.btfInfo(objId);
  if (btf && (btf.kernelBtf || btf.name === 'vmlinux')) {
    return { ...base, kind: 'kernel', btfName: btf.name, func: view.typeName(objId, btfTypeId) };
  }
  if (btf) {
    for (const id of view.ids('prog')) {
      const p = view.programOrNull(id);
      if (p && p.id !== prog.id && p.btfId === objId && p.funcInfo.some((f) => f.typeId === btfTypeId)) return asProgram(p);
    }
  }
  return byId ? asProgram(byId) : { ...base, kind: 'unknown' };
}

/** One line: "prog 42 lab_target:lab_count() (fentry, link 7)", "kernel do_sys_openat2() (fexit)". */
export function describeTarget(t: ProgramTarget): string {
  const how = `${t.attach}${t.linkId ? `, link ${t.linkId}` : t.source === 'prog' ? ', from the program info' : ''}`;
  const func = t.func ? `${t.func}()` : `btf type ${t.btfTypeId}`;
  if (t.kind === 'program') return `prog ${t.progId} ${t.progName ?? '?'}:${func} (${how})`;
  if (t.kind === 'kernel') return `${t.btfName && t.btfName !== 'vmlinux' ? `module ${t.btfName} ` : 'kernel '}${func} (${how})`;
  // The program info names the target function's type id but, for a BPF program target, not the program.
  if (t.objId === 0) return `a BPF program's function, btf type ${t.btfTypeId} (${how}; the kernel names the program only in a link)`;
  return `obj ${t.objId} btf type ${t.btfTypeId} (${how}; neither a loaded program nor kernel BTF)`;
}
