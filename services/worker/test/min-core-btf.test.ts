/**
 * Minimized BTF for a compiled object (`bpftool gen min_core_btf` in the sandbox): a CO-RE program
 * against this host's kernel set keeps only the types its relocations touch — a tiny fraction of
 * the kernel's BTF, with task_struct reduced to the members the program reads.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBtf } from '@lbc/btf';
import { DEFAULT_IMAGE } from '@lbc/core';
import { compileProgram } from '../src/compile/compile-program.ts';
import { minimizeBtf, type MinBtfSettings } from '../src/compile/min-core-btf.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../src/sandbox/hardening.ts';
import { HOST_BTF, HOST_BTF_SHA, startSandboxFixture, type SandboxFixture } from '@lbc/test-support/sandbox-fixture';
import { TRACE_PROGRAM } from '@lbc/test-support/sample-programs';

let fx: SandboxFixture;
let settings: MinBtfSettings;
beforeAll(async () => {
  fx = await startSandboxFixture();
  settings = { docker: fx.docker, image: DEFAULT_IMAGE, jobsDir: join(fx.dataDir, 'jobs'), limits: DEFAULT_SANDBOX_LIMITS, timeoutMs: 30_000, maxBytes: 1024 * 1024 };
});
afterAll(async () => {
  await fx?.close();
});

describe('minimized BTF per object', () => {
  it('keeps only what the CO-RE relocations touch: under 1% of the kernel BTF', async () => {
    const set = await fx.kernelSets.ensure(HOST_BTF_SHA);
    const compiled = await compileProgram({ pool: fx.pool, timeoutMs: 60_000 }, fx.job('trace', TRACE_PROGRAM), set);
    if (!compiled.ok) throw new Error(compiled.diagnostics);
    const min = await minimizeBtf(settings, set.dir, compiled.object);
    if (!min.ok) throw new Error(min.reason);
    const share = min.bytes.length / HOST_BTF.length;
    console.log(`minimized BTF: ${min.bytes.length} bytes of ${HOST_BTF.length} (${(share * 100).toFixed(4)}%), ${min.ms} ms`);
    expect(share).toBeLessThan(0.01);
    const btf = parseBtf(min.bytes);
    const task = btf.findByName('task_struct', 'struct')[0]!;
    expect(task.members.map((m) => m.name)).toContain('tgid');
    expect(task.members.length).toBeLessThan(10);
  });

  it('an object that is not BPF is a clear failure, not a crash', async () => {
    const set = await fx.kernelSets.ensure(HOST_BTF_SHA);
    const min = await minimizeBtf(settings, set.dir, Buffer.from('\x7fELF but not really an object'));
    expect(min.ok).toBe(false);
    expect(!min.ok && min.reason).toMatch(/bpftool gen min_core_btf exited with/);
  });
});
