/**
 * A kernel set records the flags its vmlinux.h.pch was made with, and a set whose record is missing
 * (made by an earlier version) or names other flags gets its header made again, once, before a job
 * uses it: the PCH and every compile share PCH_FLAGS exactly. Real Docker engine, real clang.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE } from '@lbc/core';
import { startSandboxFixture, type SandboxFixture } from '@lbc/test-support/sandbox-fixture';
import { TRACE_PROGRAM } from '@lbc/test-support/sample-programs';
import { compileProgram } from '../src/compile/compile-program.ts';
import { KERNEL_PCH, PCH_FLAGS } from '../src/compile/clang-args.ts';
import { KernelSetStore, PCH_STAMP, type KernelSet } from '../src/kernel-set/kernel-set.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../src/sandbox/hardening.ts';

let fx: SandboxFixture;
let set: KernelSet;

beforeAll(async () => {
  fx = await startSandboxFixture();
  set = await fx.kernelSets.ensure(fx.job('x', '').btfSha256);
});
afterAll(async () => {
  await fx?.close();
});

/** A store as a restarted worker has it: nothing known in memory, the same data directory. */
const restartedStore = () =>
  new KernelSetStore({ docker: fx.docker, redis: fx.redis, blobs: fx.blobs, image: DEFAULT_IMAGE, toolchain: fx.toolchain, dataDir: fx.dataDir, limits: DEFAULT_SANDBOX_LIMITS });

/** Compiles the trace program on the set with its precompiled lbc.h, counting clang runs (2: a PCH clang refused, then none). */
async function compileOn(store: KernelSetStore, kernelSet: KernelSet) {
  let runs = 0;
  const result = await compileProgram(
    { pool: fx.pool, timeoutMs: 30_000, onClangRun: () => void runs++, lbcPch: (s, arch) => store.lbcPch(s, arch) },
    fx.job('stamped', TRACE_PROGRAM),
    kernelSet,
  );
  if (!result.ok) throw new Error(result.diagnostics);
  return runs;
}

const stampPath = () => join(set.dir, PCH_STAMP);
const pchPath = () => join(set.dir, KERNEL_PCH);
const lbcHeaders = () => readdirSync(set.dir).filter((n) => /^lbc-.*\.pch$/.test(n));

describe("a kernel set's PCH flags", () => {
  it('are recorded beside the header when the set is built', async () => {
    expect(set.hasPch).toBe(true);
    expect(readFileSync(stampPath(), 'utf8')).toBe(`${PCH_FLAGS.join(' ')}\n`);
    expect(await compileOn(fx.kernelSets, set)).toBe(1);
    expect(lbcHeaders()).toHaveLength(1);
  });

  it.each([
    ['no record (a set made before there was one)', undefined],
    ['a record of other flags', '-O2 -g -target bpf -fno-color-diagnostics\n'],
  ])('with %s: the header is made again before a job uses the set, and the lbc.h headers chained on the old one go', async (_, stamp) => {
    // The old header stands for one made with other flags: one clang cannot use at all.
    writeFileSync(pchPath(), 'not a precompiled header made with these flags');
    if (stamp === undefined) rmSync(stampPath());
    else writeFileSync(stampPath(), stamp);
    const before = statSync(pchPath()).mtimeMs;
    const chainedOnOld = lbcHeaders();
    expect(chainedOnOld).not.toHaveLength(0);

    const store = restartedStore();
    const remade = await store.ensure(fx.job('x', '').btfSha256);
    expect(remade).toEqual({ dir: set.dir, hasPch: true });
    expect(readFileSync(stampPath(), 'utf8')).toBe(`${PCH_FLAGS.join(' ')}\n`);
    expect(statSync(pchPath()).mtimeMs).toBeGreaterThan(before);
    expect(readFileSync(pchPath()).subarray(0, 4).toString('latin1')).toBe('CPCH');
    expect(lbcHeaders()).toHaveLength(0);
    // No scratch directory is left beside the set.
    expect(readdirSync(join(set.dir, '..')).filter((n) => n.includes('.pch-'))).toEqual([]);
    // clang takes the new header at once (one run), and a new lbc.h header is chained on it.
    expect(await compileOn(store, remade)).toBe(1);
    expect(lbcHeaders()).toHaveLength(1);
    // Named after the header it is chained on: one a worker still building on the old header
    // writes after the swap is never taken for it.
    expect(chainedOnOld).not.toContain(lbcHeaders()[0]);
  });

  it('a record that is a link, even to the right words, is not taken: the header is made again and the record is a file of its own', async () => {
    const outside = join(fx.dataDir, 'outside-record');
    writeFileSync(outside, `${PCH_FLAGS.join(' ')}\n`);
    rmSync(stampPath());
    symlinkSync(outside, stampPath());
    const before = statSync(pchPath()).mtimeMs;
    await restartedStore().ensure(fx.job('x', '').btfSha256);
    expect(lstatSync(stampPath()).isFile()).toBe(true);
    expect(statSync(pchPath()).mtimeMs).toBeGreaterThan(before);
    expect(readFileSync(outside, 'utf8')).toBe(`${PCH_FLAGS.join(' ')}\n`);
  });

  it('a current record leaves the header alone', async () => {
    const before = statSync(pchPath()).mtimeMs;
    const store = restartedStore();
    await store.ensure(fx.job('x', '').btfSha256);
    expect(statSync(pchPath()).mtimeMs).toBe(before);
    expect(existsSync(stampPath())).toBe(true);
  });
});
