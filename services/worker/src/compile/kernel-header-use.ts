/**
 * How a program reaches the kernel's types: through its own first line (then the precompiled
 * vmlinux.h can stand in for it), or not at all (then lbc.h is included for it, as pylcc did).
 */
import { normaliseSource } from '@lbc/core';

const INCLUDE_OPERAND = /^[ \t]*#[ \t]*(?:include_next|include|import)\b[ \t]*(.*)$/gm;

function firstLineIncludes(source: string, header: RegExp): boolean {
  const first = normaliseSource(source).split('\n').find((l) => l.trim() !== '');
  const operand = first === undefined ? null : /^\s*#\s*include\s*(?:"([^"]*)"|<([^>]*)>)\s*$/.exec(first);
  return operand !== null && header.test(operand[1] ?? operand[2]!);
}

/** The precompiled vmlinux.h stands in for the program's own first line only when that line includes it. */
export function startsWithKernelHeader(source: string): boolean {
  return firstLineIncludes(source, /^(vmlinux|lbc)\.h$/);
}

/**
 * The precompiled lbc.h (kernel-set/lbc-pch.ts) stands in for a first line that includes lbc.h:
 * nothing of the program comes before it, so lbc.h expands exactly as it did when precompiled.
 */
export function startsWithLbcHeader(source: string): boolean {
  return firstLineIncludes(source, /^lbc\.h$/);
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
