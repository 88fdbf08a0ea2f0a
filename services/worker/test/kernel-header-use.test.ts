/** Which programs get lbc.h implicitly, and which may use the precompiled vmlinux.h. */
import { describe, expect, it } from 'vitest';
import { needsImplicitLbcHeader, startsWithKernelHeader, startsWithLbcHeader } from '../src/compile/kernel-header-use.ts';
import { parseDeps, uploadsShadow } from '../src/kernel-set/lbc-pch.ts';
import { compileArgs } from '../src/compile/clang-args.ts';

describe('implicit lbc.h', () => {
  it('is given to a program made only of its own files', () => {
    expect(needsImplicitLbcHeader('u32 x; SEC("tp/a/b") int f(void *c) { return 0; }', {})).toBe(true);
    expect(needsImplicitLbcHeader('#include "defs.h"\nint x;', { 'defs.h': '#include "./more.h"\n', 'more.h': 'typedef int t;' })).toBe(true);
    // An include inside a comment or a string is not one.
    expect(needsImplicitLbcHeader('/* #include <linux/bpf.h> */\nconst char *s = "#include <x.h>";', {})).toBe(true);
  });

  it('is not given to a program that brings its own types', () => {
    expect(needsImplicitLbcHeader('#include "vmlinux.h"\n', {})).toBe(false);
    expect(needsImplicitLbcHeader('  #  include "lbc.h"\n', {})).toBe(false);
    expect(needsImplicitLbcHeader('#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n', {})).toBe(false);
    expect(needsImplicitLbcHeader('#include "common.h"\n', { 'common.h': '#include "vmlinux.h"\n' })).toBe(false);
    expect(needsImplicitLbcHeader('#include "missing.h"\n', {})).toBe(false);
  });

  it('goes on clang\'s command line after the precompiled header', () => {
    const args = compileArgs({ name: 'p', arch: 'x86_64', cflags: [], pch: "/k/vmlinux.h.pch", implicitLbcHeader: true });
    const pch = args.indexOf('-include-pch');
    expect(pch).toBeGreaterThan(0);
    expect(args.slice(pch + 2, pch + 4)).toEqual(['-include', 'lbc.h']);
    expect(compileArgs({ name: 'p', arch: 'x86_64', cflags: [], pch: undefined })).not.toContain('-include');
  });

  it('the precompiled header stands in only for a first-line vmlinux.h or lbc.h', () => {
    expect(startsWithKernelHeader('// hi\n#include "lbc.h"\n')).toBe(true);
    expect(startsWithKernelHeader('#include <linux/bpf.h>\n#include "vmlinux.h"\n')).toBe(false);
  });

  it('the precompiled lbc.h stands in only for a first-line lbc.h', () => {
    expect(startsWithLbcHeader('// hi\n#include "lbc.h"\nint x;\n')).toBe(true);
    expect(startsWithLbcHeader('  #  include <lbc.h>\n')).toBe(true);
    expect(startsWithLbcHeader('#include "vmlinux.h"\n#include "lbc.h"\n')).toBe(false);
    expect(startsWithLbcHeader('#define LBC_DEBUG\n#include "lbc.h"\n')).toBe(false);
    expect(startsWithLbcHeader('#include "sub/lbc.h"\n')).toBe(false);
    expect(startsWithLbcHeader('#include "lbc.h>\n')).toBe(false);
    expect(startsWithKernelHeader('#include "vmlinux.h"\n')).toBe(true);
  });

  it('an uploaded file that could be found instead of one of its inputs keeps it out', () => {
    const inputs = parseDeps('/out/lbc.pch: /k/vmlinux.h.pch /k/vmlinux.h /lbc/lbc.h \\\n  /usr/include/bpf/bpf_helpers.h /usr/include/bpf/bpf_endian.h\n');
    expect(inputs).toEqual(['/k/vmlinux.h.pch', '/k/vmlinux.h', '/lbc/lbc.h', '/usr/include/bpf/bpf_helpers.h', '/usr/include/bpf/bpf_endian.h']);
    expect(uploadsShadow(inputs, ['lbc.h'])).toBe(true);
    expect(uploadsShadow(inputs, ['./bpf/bpf_endian.h'])).toBe(true);
    expect(uploadsShadow(inputs, ['vmlinux.h'])).toBe(true);
    expect(uploadsShadow(inputs, ['common.h', 'bpf/mine.h', 'my_lbc.h'])).toBe(false);
  });
});
