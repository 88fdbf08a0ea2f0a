/** The command lines the service runs clang with. Users add only validated -D/-U flags. */
import { SANDBOX_KERNEL, SANDBOX_LBC, SANDBOX_OUT, SANDBOX_SRC } from '../sandbox/warm-pool.ts';

const TARGET_ARCH: Record<string, { define: string; multiarch: string }> = {
  x86_64: { define: '-D__TARGET_ARCH_x86', multiarch: 'x86_64-linux-gnu' },
  aarch64: { define: '-D__TARGET_ARCH_arm64', multiarch: 'aarch64-linux-gnu' },
};

/**
 * Flags that change what a precompiled header holds; the PCH and every compile share them exactly.
 * -gdwarf-4, not clang 16's default DWARF 5: the DWARF leaves the object at once (llvm-strip -g),
 * and .BTF and .BTF.ext come out the same, but DWARF 5's line table carries an MD5 of every source
 * file, so each compile read and hashed vmlinux.h (~4 ms of the ~19 ms clang worked on a small
 * program with the PCH here).
 */
export const PCH_FLAGS = ['-O2', '-gdwarf-4', '-target', 'bpf', '-fno-color-diagnostics'];

export const KERNEL_HEADER = 'vmlinux.h';
export const KERNEL_PCH = 'vmlinux.h.pch';
/** vmlinux.h.pch as compiles see it. */
export const SANDBOX_KERNEL_PCH = `${SANDBOX_KERNEL}/${KERNEL_PCH}`;

/** Macros vmlinux.h tests: a program setting them cannot share the prebuilt header. */
const PCH_SENSITIVE_MACROS = new Set(['BPF_NO_PRESERVE_ACCESS_INDEX', 'BPF_NO_KFUNC_PROTOTYPES', '__ksym', '__weak', '__VMLINUX_H__']);

export function archFlags(arch: string): { define: string; multiarch: string } {
  const found = TARGET_ARCH[arch];
  if (!found) throw new Error(`unsupported arch ${arch}`);
  return found;
}

export function objectFileName(name: string): string {
  return `${name}.bpf.o`;
}

export function mainFileName(name: string): string {
  return `${name}.bpf.c`;
}

export function pchAllowedForFlags(cflags: readonly string[]): boolean {
  return cflags.every((f) => !PCH_SENSITIVE_MACROS.has(f.slice(2).split('=')[0]!));
}

/**
 * Everything on clang's command line that comes before the user's flags: the same for every
 * compile of an arch, and for the precompiled lbc.h (kernel-set/lbc-pch.ts), which must see
 * lbc.h exactly as a compile would.
 */
export function baseArgs(arch: string): string[] {
  const flags = archFlags(arch);
  return [
    ...PCH_FLAGS,
    flags.define,
    '-fno-crash-diagnostics',
    '-ferror-limit=20',
    // Debug info names the program's files as the user does, not by their place in the sandbox.
    `-fdebug-prefix-map=${SANDBOX_SRC}=.`,
    `-I${SANDBOX_SRC}`,
    `-I${SANDBOX_LBC}`,
    `-I${SANDBOX_KERNEL}`,
    `-I/usr/include/${flags.multiarch}`,
  ];
}

/**
 * `pch`: the precompiled header clang starts from, a path inside the sandbox (the kernel set's
 * vmlinux.h.pch, or a precompiled lbc.h chained on it), or none.
 * `implicitLbcHeader`: the program includes no header of the toolchain, so lbc.h is included for it.
 */
export function compileArgs(opts: { name: string; arch: string; cflags: readonly string[]; pch?: string; implicitLbcHeader?: boolean }): string[] {
  return [
    ...baseArgs(opts.arch),
    ...opts.cflags,
    ...(opts.pch ? ['-include-pch', opts.pch] : []),
    ...(opts.implicitLbcHeader ? ['-include', 'lbc.h'] : []),
    '-c',
    mainFileName(opts.name),
    '-o',
    `${SANDBOX_OUT}/${objectFileName(opts.name)}`,
  ];
}

/** GNU response-file quoting: every byte that is not plainly safe is backslash-escaped. */
export function responseFile(args: readonly string[]): string {
  return args.map((a) => a.replace(/[^A-Za-z0-9_=/.,:+@%-]/g, (c) => `\\${c}`)).join(' ') + '\n';
}
