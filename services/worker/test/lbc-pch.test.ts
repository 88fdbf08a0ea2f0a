/**
 * lbc.h precompiled on the kernel set's vmlinux.h.pch: used only where it expands exactly as lbc.h
 * would, the objects it gives are the same as without it and load on this kernel, and a
 * changed lbc.h gets a header of its own. Real Docker engine, real clang, real kernel.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE, LBC_HEADER_DIR } from '@lbc/core';
import { startSandboxFixture, type SandboxFixture } from '@lbc/test-support/sandbox-fixture';
import { ALL_MACROS_PROGRAM, TRACE_PROGRAM } from '@lbc/test-support/sample-programs';
import { compileProgram, type CompileSettings } from '../src/compile/compile-program.ts';
import { KernelSetStore, type KernelSet } from '../src/kernel-set/kernel-set.ts';
import type { LbcPch } from '../src/kernel-set/lbc-pch.ts';
import { WarmPool } from '../src/sandbox/warm-pool.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../src/sandbox/hardening.ts';

let fx: SandboxFixture;
let work: string;
let set: KernelSet;

beforeAll(async () => {
  fx = await startSandboxFixture();
  work = mkdtempSync(join(tmpdir(), 'lbc-pch-test-'));
  set = await fx.kernelSets.ensure(fx.job('x', '').btfSha256);
});
afterAll(async () => {
  await fx?.close();
  rmSync(work, { recursive: true, force: true });
});

/**
 * Compiles with the given source of precompiled lbc.h headers, counting clang runs. Its time limit
 * is half the test's, so a compile that hangs fails the test with its own error, not a test timeout.
 */
async function compileWith(lbcPch: CompileSettings['lbcPch'], name: string, source: string, extra = {}, pool = fx.pool) {
  let runs = 0;
  const result = await compileProgram({ pool, timeoutMs: 30_000, onClangRun: () => void runs++, lbcPch }, fx.job(name, source, extra), set);
  if (!result.ok) throw new Error(result.diagnostics);
  return { ...result, runs };
}

const realPch: CompileSettings['lbcPch'] = (s, arch) => fx.kernelSets.lbcPch(s, arch);

/**
 * A header clang cannot open, with the real one's inputs: a compile that uses it fails with a PCH
 * error and runs again without any PCH (two clang runs); one that does not use it runs once.
 */
async function bogusPch(s: KernelSet, arch: string): Promise<LbcPch> {
  const real = await fx.kernelSets.lbcPch(s, arch);
  if (!real) throw new Error('no precompiled lbc.h was built');
  return { sandboxPath: '/k/no-such-lbc.pch', inputs: real.inputs };
}

function loads(object: Buffer, prog: string): void {
  const path = join(work, `${prog}-${Date.now()}.bpf.o`);
  writeFileSync(path, object);
  const pin = `/sys/fs/bpf/lbc-pch-test-${process.pid}-${Date.now()}`;
  mkdirSync(pin);
  try {
    execFileSync('bpftool', ['prog', 'loadall', path, pin], { stdio: 'pipe' });
    const shown = JSON.parse(execFileSync('bpftool', ['prog', 'show', 'pinned', join(pin, prog), '--json'], { encoding: 'utf8' }));
    expect(shown).toMatchObject({ type: 'tracepoint', name: prog });
  } finally {
    rmSync(pin, { recursive: true, force: true });
  }
}

/**
 * What an object means, independent of the numbering clang gives its BTF types (which differs
 * from run to run, with or without a PCH): its sections and their sizes, its code with
 * relocations, and every BTF type with the ids it points to left out.
 */
function meaning(object: Buffer): { sections: string; code: string; btf: string[] } {
  const path = join(work, `shape-${Date.now()}-${Math.random().toString(16).slice(2)}.o`);
  writeFileSync(path, object);
  const objdump = (flag: string) => execFileSync('llvm-objdump-16', [flag, ...(flag === '-d' ? ['-r', '--no-show-raw-insn'] : []), path], { encoding: 'utf8' }).split('\n').slice(2).join('\n');
  const btf = execFileSync('bpftool', ['btf', 'dump', 'file', path], { encoding: 'utf8' });
  return { sections: objdump('-h'), code: objdump('-d'), btf: btf.replace(/\[\d+\]|(type_id|type)=\d+/g, '#').split('\n').sort() };
}

const IMPLICIT_PROGRAM = 'struct ev { u32 pid; };\nLBC_PERF_OUTPUT(evs, struct ev, 64);\nSEC("tracepoint/sched/sched_process_exec")\nint on_exec(void *ctx) { struct ev e = { .pid = bpf_get_current_pid_tgid() >> 32 }; bpf_perf_event_output(ctx, &evs, BPF_F_CURRENT_CPU, &e, sizeof(e)); return 0; }\nchar LICENSE[] SEC("license") = "GPL";\n';

describe('precompiled lbc.h', () => {
  it('is built once per kernel set and arch, from lbc.h, the bpf headers and vmlinux.h', async () => {
    const built = await fx.kernelSets.lbcPch(set, 'x86_64');
    expect(built?.sandboxPath).toMatch(/^\/k\/lbc-x86_64-[0-9a-f]{16}-[0-9a-f]{8}\.pch$/);
    expect(built?.inputs).toEqual(expect.arrayContaining(['/lbc/lbc.h', '/k/vmlinux.h', '/usr/include/bpf/bpf_helpers.h', '/usr/include/bpf/bpf_tracing.h']));
    expect(await fx.kernelSets.lbcPch(set, 'x86_64')).toEqual(built);
    expect(await fx.kernelSets.lbcPch({ ...set, hasPch: false }, 'x86_64')).toBeUndefined();
  });

  it('once found, is not looked up again, unless it is gone: then it is built again', async () => {
    const built = await fx.kernelSets.lbcPch(set, 'x86_64');
    const file = join(set.dir, built!.sandboxPath.slice('/k/'.length));
    rmSync(file);
    expect(await fx.kernelSets.lbcPch(set, 'x86_64')).toEqual(built);
    expect(existsSync(file)).toBe(true);
  });

  it('gives the same objects as vmlinux.h.pch alone, and they load on this kernel', async () => {
    for (const [name, source, prog] of [['hello', TRACE_PROGRAM, 'on_exec'], ['all', ALL_MACROS_PROGRAM, undefined], ['implicit', IMPLICIT_PROGRAM, 'on_exec']] as const) {
      const chained = await compileWith(realPch, name, source);
      const plain = await compileWith(undefined, name, source);
      expect(chained.runs).toBe(1);
      expect(meaning(chained.object)).toEqual(meaning(plain.object));
      if (prog) loads(chained.object, prog);
    }
  });

  it('is used for a program whose first line includes lbc.h, or that gets lbc.h implicitly', async () => {
    expect((await compileWith(bogusPch, 'hello', TRACE_PROGRAM)).runs).toBe(2);
    expect((await compileWith(bogusPch, 'hello', `/* lead comment */\n#include <lbc.h>\n${TRACE_PROGRAM.split('\n').slice(1).join('\n')}`)).runs).toBe(2);
    expect((await compileWith(bogusPch, 'implicit', IMPLICIT_PROGRAM)).runs).toBe(2);
  });

  it('is not used where lbc.h could expand differently', async () => {
    const body = TRACE_PROGRAM.split('\n').slice(1).join('\n');
    // A macro defined before lbc.h, on the command line, or a file of the program standing in for one of its headers.
    const cases: [string, object][] = [
      [`#define LBC_DEBUG 1\n#include "lbc.h"\n${body}`, {}],
      [TRACE_PROGRAM, { cflags: ['-DKERN_STACKID_FLAGS=0'] }],
      [TRACE_PROGRAM, { includes: { 'lbc.h': readFileSync(join(LBC_HEADER_DIR, 'lbc.h'), 'utf8') } }],
      [TRACE_PROGRAM, { includes: { 'bpf/bpf_endian.h': readFileSync('/usr/include/bpf/bpf_endian.h', 'utf8') } }],
      // vmlinux.h first: only vmlinux.h.pch stands in.
      [`#include "vmlinux.h"\n${TRACE_PROGRAM}`, {}],
    ];
    for (const [source, extra] of cases) {
      const used = await compileWith(bogusPch, 'hello', source, extra);
      expect(used.runs).toBe(1);
      // And still correct: the object is the one the plain compile gives.
      expect(meaning(used.object)).toEqual(meaning((await compileWith(undefined, 'hello', source, extra)).object));
    }
  });

  it('a changed lbc.h gets its own header, which compiles see through their /lbc', async () => {
    const headerDir = join(work, 'include');
    cpSync(LBC_HEADER_DIR, headerDir, { recursive: true });
    const store = new KernelSetStore({ docker: fx.docker, redis: fx.redis, blobs: fx.blobs, image: DEFAULT_IMAGE, toolchain: fx.toolchain, dataDir: fx.dataDir, limits: DEFAULT_SANDBOX_LIMITS, headerDir });
    const pool = new WarmPool({ docker: fx.docker, image: DEFAULT_IMAGE, jobsDir: join(work, 'jobs'), limits: { ...DEFAULT_SANDBOX_LIMITS, maxFileBytes: 16 * 1024 * 1024 + 1 }, size: 0, headerDir, releaseDelayMs: 0 });
    try {
      const first = await store.lbcPch(set, 'x86_64');
      appendFileSync(join(headerDir, 'lbc.h'), '\n#define LBC_TEST_CHANGED 1\n');
      const second = await store.lbcPch(set, 'x86_64');
      expect(second?.sandboxPath).not.toBe(first?.sandboxPath);
      expect(existsSync(join(set.dir, second!.sandboxPath.slice('/k/'.length)))).toBe(true);
      // Only its mtime changed: clang would refuse the old header, so there is a new one.
      utimesSync(join(headerDir, 'lbc.h'), new Date(), new Date(Date.now() + 60_000));
      const third = await store.lbcPch(set, 'x86_64');
      expect(third?.sandboxPath).not.toBe(second?.sandboxPath);
      // The new lbc.h's macro is there, through the header built from it, in one clang run.
      const source = '#include "lbc.h"\nint changed = LBC_TEST_CHANGED;\nchar LICENSE[] SEC("license") = "GPL";\n';
      const result = await compileWith((s, arch) => store.lbcPch(s, arch), 'changed', source, {}, pool);
      expect(result.runs).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
