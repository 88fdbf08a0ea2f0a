/** `lbc inspect progs` and `lbc inspect prog ID`: loaded programs with full names and what they attach to. */
import type { KernelLinkInfo, KernelProgramDetail } from '../native/types.ts';
import { attachWord, hasAttachTarget, programTargets, type ProgramTarget } from './attach-targets.ts';
import { functionNames, mapFullName, programFullName } from './btf-names.ts';
import { KernelView } from './kernel-view.ts';
import { pinKey, scanPins } from './pinned-paths.ts';
import { statsSysctlOn } from './run-stats.ts';

export interface InspectedProgram {
  id: number;
  /** enum bpf_prog_type, and libbpf's name for it: "xdp", "tracepoint", "tracing", "ext", ... */
  type: number;
  typeName: string;
  /** Full name from BTF (the main function's), not the kernel's 15 characters. */
  name: string;
  /** The name as the kernel keeps it. */
  kernelName: string;
  tag: string;
  /** How it is attached: fentry/fexit/freplace for trampolines, else the links' attach types and targets. */
  attach?: string;
  uid: number;
  btfId?: number;
  mapIds: number[];
  /** Ids of the links that attach it. */
  linkIds: number[];
  /** Tracing/EXT/LSM programs: their targets, as far as the kernel reports them. */
  targets: ProgramTarget[];
  /** Why `targets` is empty for a tracing/EXT/LSM program. */
  targetNote?: string;
  /** Counted only while BPF statistics are on. */
  runCount?: bigint;
  runTimeNs?: bigint;
}

export interface InspectedProgramDetail extends InspectedProgram {
  jitedBytes: number;
  xlatedBytes: number;
  /** Instructions the verifier processed (Linux 5.16+). */
  verifiedInsns?: number;
  recursionMisses?: bigint;
  loadTimeNs: bigint;
  gplCompatible: boolean;
  /** Every function of the program by BTF name, its own first. */
  functions: string[];
  maps: Array<{ id: number; name: string; typeName: string }>;
  links: KernelLinkInfo[];
  pinned: string[];
  /** Programs attached to this one (fentry/fexit on it, freplace of its functions). */
  attachedBy: Array<{ progId: number; name: string; attach: string; func?: string; btfTypeId: number; linkId?: number }>;
  /** kernel.bpf_stats_enabled: whether runCount/runTimeNs are being counted. */
  statsEnabled?: boolean;
}

/** Every loaded program. */
export function inspectPrograms(view = new KernelView()): InspectedProgram[] {
  const links = linksByProgram(view);
  const out: InspectedProgram[] = [];
  for (const id of view.ids('prog')) {
    const prog = view.programOrNull(id);
    if (prog) out.push(summarize(view, prog, links.get(id) ?? []));
  }
  return out;
}

/** One program in detail; LBC_ERR_INSPECT_NOT_FOUND for an id nothing has. */
export function inspectProgram(id: number, view = new KernelView()): InspectedProgramDetail {
  const prog = view.program(id);
  const links = linksByProgram(view);
  const summary = summarize(view, prog, links.get(id) ?? []);
  const attachedBy: InspectedProgramDetail['attachedBy'] = [];
  for (const other of view.ids('prog')) {
    const p = view.programOrNull(other);
    if (!p || other === id || !hasAttachTarget(p)) continue;
    for (const t of programTargets(view, p, links.get(other) ?? []).targets) {
      if (t.kind === 'program' && t.progId === id) {
        attachedBy.push({ progId: other, name: programFullName(view, p), attach: t.attach, ...(t.func ? { func: t.func } : {}), btfTypeId: t.btfTypeId, ...(t.linkId ? { linkId: t.linkId } : {}) });
      }
    }
  }
  return {
    ...summary,
    jitedBytes: prog.jitedLen,
    xlatedBytes: prog.xlatedLen,
    ...(prog.verifiedInsns !== undefined ? { verifiedInsns: prog.verifiedInsns } : {}),
    ...(prog.recursionMisses !== undefined ? { recursionMisses: prog.recursionMisses } : {}),
    loadTimeNs: prog.loadTimeNs,
    gplCompatible: prog.gplCompatible,
    functions: functionNames(view, prog),
    maps: prog.mapIds.map((m) => {
      const map = view.mapOrNull(m);
      return { id: m, name: map ? mapFullName(view, map) : '(gone)', typeName: map?.typeName ?? '' };
    }),
    links: links.get(id) ?? [],
    pinned: scanPins(view.native).get(pinKey('prog', id)) ?? [],
    attachedBy,
    ...(statsSysctlOn() !== undefined ? { statsEnabled: statsSysctlOn() } : {}),
  };
}

function linksByProgram(view: KernelView): Map<number, KernelLinkInfo[]> {
  const out = new Map<number, KernelLinkInfo[]>();
  for (const link of view.links()) out.set(link.progId, [...(out.get(link.progId) ?? []), link]);
  return out;
}

function summarize(view: KernelView, prog: KernelProgramDetail, links: KernelLinkInfo[]): InspectedProgram {
  const report = programTargets(view, prog, links);
  return {
    id: prog.id,
    type: prog.type,
    typeName: prog.typeName,
    name: programFullName(view, prog),
    kernelName: prog.name,
    tag: prog.tag,
    ...(describeAttach(prog, links) ? { attach: describeAttach(prog, links) } : {}),
    uid: prog.uid,
    ...(prog.btfId ? { btfId: prog.btfId } : {}),
    mapIds: prog.mapIds,
    linkIds: links.map((l) => l.id),
    targets: report.targets,
    ...(report.note ? { targetNote: report.note } : {}),
    ...(prog.runCount !== undefined ? { runCount: prog.runCount, runTimeNs: prog.runTimeNs } : {}),
  };
}

function describeAttach(prog: KernelProgramDetail, links: KernelLinkInfo[]): string | undefined {
  if (hasAttachTarget(prog)) return attachWord(prog, links.find((l) => l.typeName === 'tracing')?.attachType);
  const parts = links.map((l) => [l.attachType ?? l.typeName, l.target].filter(Boolean).join(' '));
  return parts.length ? [...new Set(parts)].join(', ') : undefined;
}
