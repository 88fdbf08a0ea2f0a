/** Clang's diagnostics rewritten to the user's names; anything about other files withheld. */
import { describe, expect, it } from 'vitest';
import { cleanDiagnostics } from '../src/compile/diagnostics.ts';

const user = new Set(['hello.bpf.c', 'inc/x.h']);

describe('cleanDiagnostics', () => {
  it('rewrites sandbox, kernel-set, lbc.h and system header paths', () => {
    const stderr = [
      'In file included from hello.bpf.c:1:',
      'In file included from /lbc/lbc.h:20:',
      '/usr/include/bpf/bpf_helpers.h:3:10: warning: something [-Wfoo]',
      '    3 | #include "bpf_helper_defs.h"',
      '/job/src/inc/x.h:2:1: error: bad',
      './inc/x.h:3:1: note: here',
      '/k/vmlinux.h:9:2: note: previous definition is here',
      '/usr/lib/llvm-19/lib/clang/19/include/stddef.h:4:1: note: in stddef',
      "hello.bpf.c:4:10: fatal error: '/job/src/missing.h' file not found",
      '2 errors generated.',
    ].join('\n');
    expect(cleanDiagnostics(stderr, user)).toBe(
      [
        'In file included from hello.bpf.c:1:',
        'In file included from lbc.h:20:',
        'bpf/bpf_helpers.h:3:10: warning: something [-Wfoo]',
        '    3 | #include "bpf_helper_defs.h"',
        'inc/x.h:2:1: error: bad',
        'inc/x.h:3:1: note: here',
        'vmlinux.h:9:2: note: previous definition is here',
        'stddef.h:4:1: note: in stddef',
        "hello.bpf.c:4:10: fatal error: 'missing.h' file not found",
        '2 errors generated.',
      ].join('\n'),
    );
  });

  it('withholds diagnostics, with their snippets, about files outside the program', () => {
    const stderr = [
      '/etc/passwd:1:5: error: unknown type name root',
      '    1 | root:x:0:0:root:/root:/bin/bash',
      '      |     ^',
      '../../etc/shadow:1:1: error: x',
      '    1 | secret',
      'hello.bpf.c:2:1: error: mine',
      '    2 | int x = ;',
      '3 errors generated.',
    ].join('\n');
    const out = cleanDiagnostics(stderr, user);
    expect(out).not.toMatch(/root|secret|passwd|shadow/);
    expect(out).toMatch(/^hello\.bpf\.c:2:1: error: mine\n {4}2 \| int x = ;\n3 errors generated\.\nerror: a diagnostic about a file outside the program was withheld$/);
  });
});
