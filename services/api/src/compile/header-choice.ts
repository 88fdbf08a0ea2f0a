/**
 * Which header a program compiles against. A CO-RE program (every kernel type it reads comes from
 * vmlinux.h, whose records carry preserve_access_index, or through lbc.h's _()) compiles once per
 * arch against the newest header: its field offsets are relocations libbpf fits to each kernel at
 * load, and fields of newer kernels behind bpf_core_field_exists() only compile there. What CO-RE
 * does not relocate is baked in from the header at compile time; a source that does any of that is
 * compiled against its target's own header, as before (conservative: a per-kernel object is what
 * the farm always made). Looked for in the program's own files:
 * - BPF_NO_PRESERVE_ACCESS_INDEX (in the source or a -D flag): vmlinux.h's types lose their relocations;
 * - sizeof(struct X) / __builtin_offsetof(struct X, …) of a type the program does not define itself:
 *   a compile-time layout of the kernel's type (bpf_core_type_size() / bpf_core_field_offset() are
 *   the relocatable forms; libbpf's offsetof() on vmlinux.h types is relocated and fine).
 * Not detected: constants of kernel-internal enums (compiled in as the newest header's values; use
 * bpf_core_enum_value() for those that moved). A program that does not compile against the newest
 * header (a field a newer kernel renamed) is compiled against its own one instead (compile-service.ts).
 */
import type { HeaderMode, HeaderRequest } from '@lbc/contract';
import { normaliseSource } from '@lbc/core';

export interface HeaderChoice {
  mode: HeaderMode;
  /** Why the target's own header (mode 'kernel'), in words. */
  reason?: string;
}

export interface HeaderChoiceInput {
  source: string;
  includes: Readonly<Record<string, string>>;
  cflags: readonly string[];
  header?: HeaderRequest;
  minBtf?: boolean;
}

const OWN_TYPE = /\b(struct|union)\s+([A-Za-z_]\w*)\s*(?:__attribute__\s*\(\(.*?\)\)\s*)?\{/g;
const LAYOUT_USE = /\b(sizeof|__builtin_offsetof)\s*\(\s*(?:(?:const|volatile)\s+)*(struct|union)\s+([A-Za-z_]\w*)\s*([,)])/g;

/** Comments out, so a commented-out line decides nothing. */
function withoutComments(text: string): string {
  return normaliseSource(text).replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

export function chooseHeader(input: HeaderChoiceInput): HeaderChoice {
  if (input.header === 'kernel') return { mode: 'kernel', reason: 'requested (header: kernel)' };
  if (input.header === 'core') return { mode: 'core' };
  // The minimized BTF is cut from the target's own BTF for the object's relocations.
  if (input.minBtf) return { mode: 'kernel', reason: "a minimized BTF is made from the target kernel's own BTF (minBtf)" };
  if (input.cflags.some((f) => /^-DBPF_NO_PRESERVE_ACCESS_INDEX(=|$)/.test(f))) {
    return { mode: 'kernel', reason: '-DBPF_NO_PRESERVE_ACCESS_INDEX turns off the CO-RE relocations of kernel types' };
  }
  const files = [input.source, ...Object.values(input.includes)].map(withoutComments);
  if (files.some((f) => /\bBPF_NO_PRESERVE_ACCESS_INDEX\b/.test(f))) {
    return { mode: 'kernel', reason: 'BPF_NO_PRESERVE_ACCESS_INDEX turns off the CO-RE relocations of kernel types' };
  }
  const own = new Set<string>();
  for (const f of files) for (const m of f.matchAll(OWN_TYPE)) own.add(`${m[1]} ${m[2]}`);
  for (const f of files) {
    for (const m of f.matchAll(LAYOUT_USE)) {
      const type = `${m[2]} ${m[3]}`;
      if (own.has(type)) continue;
      const use = m[1] === 'sizeof' ? `sizeof(${type})` : `__builtin_offsetof(${type}, …)`;
      const fix = m[1] === 'sizeof' ? 'bpf_core_type_size()' : 'bpf_core_field_offset()';
      return { mode: 'kernel', reason: `${use} is the layout of one kernel's type, fixed at compile time (${fix} is relocated at load)` };
    }
  }
  return { mode: 'core' };
}
