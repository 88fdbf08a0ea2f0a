/**
 * How a program reaches the kernel's types: through its own first line (then the precompiled
 * vmlinux.h can stand in for it), or not at all (then lbc.h is included for it, as pylcc did).
 */
import { normaliseSource } from '@lbc/core';

const INCLUDE_OPERAND = /^[ \t]*#[ \t]*(?:include_next|include|import)\b[ \t]*(.*)$/gm;

/** The precompiled vmlinux.h stands in for the program's own first line only when that line includes it. */
export function startsWithKernelHeader(source: string): boolean {
  const first = normaliseSource(source).split('\n').find((l) => l.trim() !== '');
  return first !== undefined && /^\s*#\s*include\s*["<](vmlinux\.h|lbc\.h)[">]\s*$/.test(first);
}

/**
 * True when the program is made only of its own files: every #include of the main source and of
 * its local headers names one of those headers. Such a program (pylcc's runlatency uses u32,
 * LBC_PERF_OUTPUT and SEC() with no include at all) gets lbc.h. A program that includes vmlinux.h,
 * lbc.h or any header of the toolchain (<linux/bpf.h>, <bpf/bpf_helpers.h>) brings its own types,
 * and lbc.h's would clash with them.
 */
export function needsImplicitLbcHeader(source: string, includes: Readonly<Record<string, string>>): boolean {
  for (const text of [source, ...Object.values(includes)]) {
    for (const match of normaliseSource(text).matchAll(INCLUDE_OPERAND)) {
      const quoted = /^"([^"]*)"/.exec(match[1]!.trim());
      if (!quoted || !Object.hasOwn(includes, quoted[1]!.replace(/^(\.\/)+/, ''))) return false;
    }
  }
  return true;
}
