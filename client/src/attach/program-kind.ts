/**
 * Which attach method fits which program, read from its ELF section the way libbpf names them:
 * calling the wrong one says which method the program needs instead of a bare EINVAL.
 */
import { LbcError } from '@lbc/contract';
import type { NativeProgramInfo } from '../native/types.ts';

const KINDS: Array<{ section: RegExp; method: string; kind: string }> = [
  { section: /^iter(\.s)?\//, method: 'attachIter()', kind: 'BPF iterator' },
  { section: /^socket(\/|$)/, method: 'attachSocket()', kind: 'socket filter' },
  { section: /^(tc|classifier|action|tcx\/(ingress|egress))(\/|$)/, method: 'attachTc()', kind: 'TC program' },
  { section: /^usdt(\/|$)/, method: 'attachUsdt()', kind: 'USDT probe' },
  { section: /^u(ret)?probe\.multi(\.s)?(\/|$)/, method: 'attachUprobeMulti()', kind: 'uprobe.multi program' },
  { section: /^k(ret)?probe\.multi(\/|$)/, method: 'attachKprobeMulti()', kind: 'kprobe.multi program' },
  { section: /^lsm(\.s)?\//, method: 'attachLsm()', kind: 'BPF LSM program' },
];

/** The attach method a program's section calls for, if it is one of the kinds above. */
export function methodFor(section: string): string | undefined {
  return KINDS.find((k) => k.section.test(section))?.method;
}

/** Throws LBC_ERR_PROGRAM_KIND unless the program's section matches `section`. */
export function requireKind(info: NativeProgramInfo, section: RegExp, method: string, wanted: string): void {
  if (section.test(info.section)) return;
  const instead = methodFor(info.section);
  throw new LbcError(
    'LBC_ERR_PROGRAM_KIND',
    `${info.name} is SEC("${info.section}"), not a ${wanted}: ${method} attaches ${wanted}s only` +
      (instead ? `; use ${instead} for this one` : '; attach it with the method for its section, or attach() by section name'),
    { prog: info.name, section: info.section, method, ...(instead ? { instead } : {}) },
  );
}
