/** `lbc inspect links`: every link, with its program's full name and, for tracing links, the target placed. */
import type { KernelLinkInfo } from '../native/types.ts';
import { describeTarget, programTargets } from './attach-targets.ts';
import { programFullName } from './btf-names.ts';
import { KernelView } from './kernel-view.ts';

export interface InspectedLink extends KernelLinkInfo {
  progName?: string;
  /** For tracing links: "prog 42 name:func() (fentry, link 7)" and the like. */
  targetDescription?: string;
}

export function inspectLinks(view = new KernelView()): InspectedLink[] {
  return view.links().map((link) => {
    const prog = view.programOrNull(link.progId);
    if (!prog) return { ...link };
    const target = link.typeName === 'tracing' ? programTargets(view, prog, [link]).targets[0] : undefined;
    return { ...link, progName: programFullName(view, prog), ...(target ? { targetDescription: describeTarget(target) } : {}) };
  });
}
