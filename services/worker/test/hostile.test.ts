/**
 * Sources written by an attacker. Each gets a clear error (or compiles harmlessly), nothing of the
 * host reaches any result, and the sandbox keeps serving. The scan refuses what it can see; the
 * container is the barrier for what it cannot (include names built from macros, asm strings).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { scanSource } from '@lbc/core';
import { compileProgram, type CompiledProgram } from '../src/compile/compile-program.ts';
import { createJobDir, readObject, removeJobDir } from '../src/sandbox/job-dir.ts';
import { SandboxContainer } from '../src/sandbox/sandbox-container.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../src/sandbox/hardening.ts';
import { RELEASE_DELAY_MS } from '../src/sandbox/warm-pool.ts';
import { startSandboxFixture, type SandboxFixture } from '@lbc/test-support/sandbox-fixture';
import { DEFAULT_IMAGE } from '@lbc/core';

const MARKER = `lbc-canary-${randomBytes(12).toString('hex')}`;
// The worker's own environment must not leak either.
process.env.LBC_TEST_CANARY_ENV = MARKER;

let fx: SandboxFixture;
let canaryDir: string;
let canary: string;

beforeAll(async () => {
  fx = await startSandboxFixture();
  canaryDir = mkdtempSync(join(tmpdir(), 'lbc-canary-'));
  canary = join(canaryDir, 'secret.txt');
  writeFileSync(canary, `"${MARKER}"\n`);
  await fx.kernelSets.ensure(fx.job('x', '').btfSha256);
});
afterAll(async () => {
  await fx?.close();
  rmSync(canaryDir, { recursive: true, force: true });
});

const HOST_ONLY = [MARKER, 'daemon:x:1:1', '/sys/kernel/btf', 'lbc-worker-test-'];

function assertNothingOfTheHost(result: CompiledProgram) {
  const texts = result.ok ? [result.object.toString('latin1'), result.warnings] : [result.diagnostics];
  for (const text of texts) {
    for (const secret of [...HOST_ONLY, fx.dataDir]) expect(text).not.toContain(secret);
  }
}

const compile = async (source: string, extra: Record<string, unknown> = {}, timeoutMs = 60_000) => {
  const set = await fx.kernelSets.ensure(fx.job('x', '').btfSha256);
  const result = await compileProgram({ pool: fx.pool, timeoutMs }, fx.job('hello', source, extra), set);
  assertNothingOfTheHost(result);
  return result;
};

const refusedBy = (code: string, files: Record<string, string>) => {
  try {
    scanSource(files);
  } catch (err) {
    expect(isLbcError(err)).toBe(true);
    return (err as { code: string }).code === code;
  }
  return false;
};

const STRINGIFY = '#define STR(x) #x\n#define XSTR(x) STR(x)\n';

describe('the source scan refuses what it can see', () => {
  it.each([
    ['absolute path', '#include "/etc/passwd"\n'],
    ['angle absolute path', '#include </etc/shadow>\n'],
    ['digraph', '%:include "/etc/passwd"\n'],
    ['trigraph', '??=include "/etc/passwd"\n'],
    ['line splice', '#inc\\\nlude "/etc/passwd"\n'],
    ['comment inside the directive', '# /* x */ include "/etc/passwd"\n'],
    ['dot-dot', '#include "../../../etc/passwd"\n'],
    ['dot-dot in the middle', '#include "sub/../../x.h"\n'],
    ['include_next', '#include_next </etc/passwd>\n'],
    ['embed', '#embed "/etc/passwd"\n'],
    ['import', '#import "/etc/passwd"\n'],
    ['form feed before the #', '\f#include "/etc/passwd"\n'],
    ['vertical tab before the #', '\v#embed "/proc/cmdline"\n'],
    ['form feed and vertical tab after the #', '#\f\vinclude "/etc/passwd"\n'],
    ['byte order mark', '\uFEFF#include "/etc/passwd"\n'],
    ['NUL before the #', '\0#include "/etc/passwd"\n'],
    ['carriage returns for line ends', 'int a;\r#include "/etc/passwd"\r'],
    ['line splice with blanks before the newline', '#embe\\ \t\f\nd "/proc/cmdline"\n'],
    ['line splice inside the name', '#include "/etc/pa\\\nsswd"\n'],
    ['digraph embed', '%:  embed "/proc/config.gz"\n'],
    ['embed with parameters', '#embed "/proc/cmdline" limit(64) suffix(,)\n'],
    ['__has_include', '#if __has_include("/etc/shadow")\n#endif\n'],
    ['__has_embed', '#if __has_embed(</proc/cmdline>)\n#endif\n'],
    ['__has_include_next with ..', '#if __has_include_next("../../x")\n#endif\n'],
    ['#pragma GCC dependency', '#pragma GCC dependency "/etc/shadow"\n'],
    ['_Pragma GCC dependency', '_Pragma("GCC dependency \\"/etc/shadow\\"")\n'],
    ['a raw string literal opening a comment for a naive scanner', 'const char *s = R"x(")/*)x";\n#include "/etc/passwd"\n// */\n'],
    ['a trigraph splice in a comment (seen with and without trigraphs)', '// ??/\n#include "/etc/passwd"\n'],
  ])('%s', async (_, text) => {
    expect(refusedBy('LBC_ERR_INCLUDE_FORBIDDEN', { 'hello.bpf.c': text })).toBe(true);
    const result = await compile(text.startsWith('\uFEFF') ? text : `#include "lbc.h"\n${text}`);
    expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE' });
    if (!result.ok) expect(result.diagnostics).toMatch(/^LBC_ERR_INCLUDE_FORBIDDEN: .*hello\.bpf\.c/);
  });

  it('a string holding "/*" does not hide a directive from the scan', () => {
    expect(refusedBy('LBC_ERR_INCLUDE_FORBIDDEN', { 'hello.bpf.c': 'char *s = "/*";\n#include "/etc/passwd"\n// */\n' })).toBe(true);
  });

  it('.incbin anywhere, also in an include file', async () => {
    const asm = 'asm(".incbin \\"/etc/passwd\\"");\n';
    expect(refusedBy('LBC_ERR_SOURCE_FORBIDDEN', { 'hello.bpf.c': '#include "x.h"\n', 'x.h': asm })).toBe(true);
    const result = await compile('#include "lbc.h"\n#include "x.h"\n', { includes: { 'x.h': asm } });
    if (!result.ok) expect(result.diagnostics).toMatch(/^LBC_ERR_SOURCE_FORBIDDEN: .*x\.h: \.incbin/);
    else expect.fail('compiled');
  });

  it('include paths in the request itself are checked', async () => {
    const result = await compile('#include "lbc.h"\n', { includes: { '../escape.h': 'int x;' } });
    expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE' });
    if (!result.ok) expect(result.diagnostics).toMatch(/LBC_ERR_INCLUDE_FORBIDDEN/);
  });

  it('include names that cannot be files (file and directory at once, too long) are the user\'s error, not a sandbox fault', async () => {
    const cases: Record<string, string>[] = [{ q: 'int a;', 'q/b': 'int b;' }, { 'q/b': 'int b;', q: 'int a;' }, { ['x'.repeat(300)]: '' }, { 'hello.bpf.c/x.h': '' }];
    for (const includes of cases) {
      // A job that reached the worker without the API's check (an older API node): a result, never thrown.
      const result = await compile('#include "lbc.h"\n', { includes });
      expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE' });
      if (!result.ok) expect(result.diagnostics).toMatch(/^LBC_ERR_INCLUDE_NAME_INVALID: /);
    }
  });

  it('compiler flags other than -D/-U never reach clang (no plugins, no -Xclang -load)', async () => {
    for (const flag of ['-fplugin=/tmp/evil.so', '-Xclang', '-load', '-o/etc/x', '--config=/x']) {
      const result = await compile('#include "lbc.h"\n', { cflags: [flag] });
      expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE' });
      if (!result.ok) expect(result.diagnostics).toMatch(/LBC_ERR_CFLAG_FORBIDDEN/);
    }
  });

  it('a -D value carrying spaces and quotes stays one macro, not extra flags', async () => {
    const value = `1 -fplugin=/tmp/evil.so "'\\ -o /tmp/x`;
    const source = `#include "lbc.h"\n${STRINGIFY}static const char v[] = XSTR(EVIL);\n_Static_assert(sizeof(v) > 20, "one macro");\nchar LICENSE[] SEC("license") = "GPL";\n`;
    const result = await compile(source, { cflags: [`-DEVIL=${value}`] });
    expect(result.ok ? '' : result.diagnostics).toBe('');
  });

  it('a -D value that would continue onto the next flag is refused, naming the flag', async () => {
    for (const flag of ['-DEVIL=x\\', '-DEVIL=x\\ ', '-DEVIL=1 /*', '-DEVIL=1\n#include "/etc/passwd"', '-DEVIL=1\0']) {
      const result = await compile('#include "lbc.h"\n', { cflags: [flag, '-DNEXT=1'] });
      expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE' });
      if (!result.ok) expect(result.diagnostics).toMatch(/^LBC_ERR_CFLAG_FORBIDDEN: /);
      if (!result.ok) expect(result.diagnostics).toContain(JSON.stringify(flag));
    }
  });
});

describe('the container is the barrier for what the scan cannot see', () => {
  it('an include built from macros cannot reach a host file', async () => {
    const source = `#include "lbc.h"\n${STRINGIFY}#define P XSTR(${canary})\nconst char secret[] =\n#include P\n;\n`;
    const result = await compile(source);
    expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE' });
    if (!result.ok) expect(result.diagnostics).toMatch(/file not found/);
  });

  it("/proc/self/environ and the mount table hold nothing of the host", async () => {
    for (const file of ['/proc/self/environ', '/proc/self/mountinfo', '/proc/thread-self/mountinfo', '/proc/1/mounts']) {
      const source = `#include "lbc.h"\n${STRINGIFY}#define P XSTR(${file})\nconst char leak[] = {\n#include P\n};\nchar LICENSE[] SEC("license") = "GPL";\n`;
      await compile(source);
    }
  });

  it("the container's /etc/passwd is not the host's, and diagnostics quoting it are withheld", async () => {
    expect(readFileSync('/etc/passwd', 'utf8')).toContain('daemon:x:1:1');
    const source = `#include "lbc.h"\n${STRINGIFY}#define P XSTR(/etc/passwd)\n#include P\n`;
    const result = await compile(source);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.diagnostics).toMatch(/withheld/);
      expect(result.diagnostics).not.toMatch(/nobody|nologin|root:x/);
    }
  });

  it("nothing at /proc's top level, in pid 1's own records or in the resolver configuration describes the host", async () => {
    const script = [
      'read -r _; cd /proc',
      'for e in *; do',
      '  case "$e" in *[!0-9]*) ;; *) continue ;; esac',
      '  [ -L "$e" ] && continue',
      '  if [ -d "$e" ]; then [ -n "$(ls -A "$e" 2>/dev/null)" ] && echo "readable: /proc/$e"',
      '  elif [ "$(timeout 2 head -c 1 "$e" 2>/dev/null | wc -c)" != 0 ]; then echo "readable: /proc/$e"; fi',
      'done',
      'for f in /proc/1/mountinfo /proc/1/mounts /proc/1/environ /proc/1/cgroup /proc/1/cpuset /proc/1/sched /etc/resolv.conf /proc/sys/kernel/osrelease; do',
      '  [ "$(head -c 1 "$f" 2>/dev/null | wc -c)" != 0 ] && echo "readable: $f"',
      'done',
      'echo checked $(ls /proc | wc -l) entries',
    ].join('\n');
    const container = await SandboxContainer.start(fx.docker, { image: DEFAULT_IMAGE, cmd: ['sh', '-c', script], workingDir: '/', mounts: [], labels: { 'lbc.role': 'test' }, limits: DEFAULT_SANDBOX_LIMITS });
    try {
      const masked = (await container.container.inspect()).HostConfig.MaskedPaths ?? [];
      expect(masked).toEqual(expect.arrayContaining(['/proc/cmdline', '/proc/config.gz', '/proc/kallsyms', '/proc/modules', '/proc/sched_debug', '/proc/version', '/proc/sys', '/proc/1/environ']));
      const run = await container.run('\n', 30_000);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^checked \d+ entries\n$/);
    } finally {
      await container.destroy();
    }
  });

  it('#embed of what describes the host, named through a macro (the scan cannot see it), embeds nothing of it', async () => {
    const hostCmdline = readFileSync('/proc/cmdline', 'latin1').trim();
    expect(hostCmdline.length).toBeGreaterThan(10);
    const files = ['/proc/cmdline', '/proc/config.gz', '/proc/version', '/proc/kallsyms', '/proc/modules', '/proc/cpuinfo', '/proc/self/cgroup', '/etc/resolv.conf', '/proc/sys/kernel/osrelease'];
    for (const file of files) {
      // Either the file is not there, or it is empty: the array holds only its closing 0.
      const source = `#include "lbc.h"\n#define P "${file}"\nconst unsigned char leak[] = {\n#embed P suffix(,)\n0 };\n_Static_assert(sizeof(leak) == 1, "embedded something");\nchar LICENSE[] SEC("license") = "GPL";\n`;
      const result = await compile(source);
      if (result.ok) expect(result.object.toString('latin1')).not.toContain(hostCmdline);
      else expect(result.diagnostics, file).toMatch(/not found/);
    }
    // The attack as reported: the kernel command line, embedded whole.
    const result = await compile(`#include "lbc.h"\n#define P "/proc/cmdline"\nconst char leak[] = {\n#embed P suffix(,)\n0 };\nchar LICENSE[] SEC("license") = "GPL";\n`);
    expect(result.ok ? '' : result.diagnostics).toMatch(/^(warning: .*#embed is a C23 extension[^]*)?$/);
    if (result.ok) expect(result.object.toString('latin1')).not.toContain(hostCmdline);
  });

  it('asm .incbin assembled from string pieces reads only the container', async () => {
    const source = `#include "lbc.h"\nasm(".inc" "bin \\"${canary}\\"");\nasm(".inc" "bin \\"/etc/hostname\\"");\nchar LICENSE[] SEC("license") = "GPL";\n`;
    await compile(source);
  });
});

describe('limits', () => {
  it('runaway macro expansion stops at the limit with LBC_ERR_COMPILE_LIMIT', async () => {
    const source = [
      '#define A(x) x x x x x x x x x x',
      '#define B(x) A(A(A(A(A(A(A(A(x))))))))',
      'int n = sizeof((int[]){ B(B(B(1,))) });',
    ].join('\n');
    const started = Date.now();
    const result = await compile(source, {}, 5_000);
    expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE_LIMIT' });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('the wall-clock timeout kills a compile that runs too long', async () => {
    // The plain 130k-line vmlinux.h takes clang far longer than 20 ms to parse.
    const result = await compile('#include "vmlinux.h"\nint x;\n', { cflags: ['-D__weak=__attribute__((weak))'] }, 20);
    expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE_LIMIT' });
    if (!result.ok) expect(result.diagnostics).toMatch(/ran longer than/);
  });

  it('a flood of diagnostics is capped, not carried whole', async () => {
    const source = [
      '#include "lbc.h"',
      '#define W _Pragma("GCC warning \\"lbc flood warning padding padding padding padding\\"")',
      '#define A(x) x x x x x x x x x x',
      'A(A(A(A(W))))',
      'char LICENSE[] SEC("license") = "GPL";',
    ].join('\n');
    const result = await compile(source);
    const text = result.ok ? result.warnings : result.diagnostics;
    expect(text).toMatch(/lbc flood warning/);
    expect(text.length).toBeLessThan(300 * 1024);
    expect(text).toMatch(/\(diagnostics truncated\)$/);
  });

  it('an object over the size limit is refused with LBC_ERR_COMPILE_LIMIT', async () => {
    const source = '#include "lbc.h"\nchar big[20 << 20] = { 1 };\nchar LICENSE[] SEC("license") = "GPL";\n';
    const result = await compile(source);
    expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE_LIMIT' });
  });

  it('a fork bomb in the sandbox is held by the pids limit', async () => {
    const container = await SandboxContainer.start(fx.docker, {
      image: DEFAULT_IMAGE,
      cmd: ['sh', '-c', 'read -r _; i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); echo $i; done'],
      workingDir: '/',
      mounts: [],
      labels: { 'lbc.role': 'test' },
      limits: DEFAULT_SANDBOX_LIMITS,
    });
    try {
      const info = await container.container.inspect();
      expect(info.HostConfig.PidsLimit).toBe(64);
      const run = await container.run('\n', 20_000);
      // Each line is one process started; the shell dies at the first fork the limit refuses.
      const started = run.stdout.trim().split('\n').map(Number);
      expect(started.length).toBeGreaterThan(10);
      expect(Math.max(...started)).toBeLessThan(64);
      expect(run.stderr).toMatch(/Cannot fork/);
    } finally {
      await container.destroy();
    }
  });

  it('a symlink or a non-regular file in the output is refused, never followed', async () => {
    const job = await createJobDir(join(fx.dataDir, 'jobs'));
    try {
      symlinkSync(canary, join(job.out, 'evil.bpf.o'));
      expect(await readObject(job, 'evil.bpf.o', 1 << 20)).toMatchObject({ ok: false, reason: 'not-regular' });
      execFileSync('mkfifo', [join(job.out, 'fifo.bpf.o')]);
      expect(await readObject(job, 'fifo.bpf.o', 1 << 20)).toMatchObject({ ok: false, reason: 'not-regular' });
      writeFileSync(join(job.out, 'big.bpf.o'), Buffer.alloc(2048));
      expect(await readObject(job, 'big.bpf.o', 1024)).toMatchObject({ ok: false, reason: 'too-large' });
    } finally {
      await removeJobDir(job.root);
    }
  });
});

describe('after all that', () => {
  it('a normal compile still works', async () => {
    const result = await compile('#include "lbc.h"\nSEC("tracepoint/sched/sched_process_exec")\nint f(void *ctx) { return 0; }\nchar LICENSE[] SEC("license") = "GPL";\n');
    expect(result.ok).toBe(true);
  });

  it('no sandbox container is left running but the warm spare', async () => {
    // A used container goes RELEASE_DELAY_MS after its job (off the answer's path); then at once.
    await new Promise((r) => setTimeout(r, RELEASE_DELAY_MS + 500));
    const mine = () => fx.docker.listContainers({ all: true, filters: { label: [`lbc.owner.pid=${process.pid}`] } });
    let left = await mine();
    for (const deadline = Date.now() + 10_000; left.length > 1 && Date.now() < deadline; left = await mine()) await new Promise((r) => setTimeout(r, 200));
    expect(left.length).toBeLessThanOrEqual(1);
  });
});
