/**
 * The compile sandbox end to end on the real Docker engine and the real kernel: a program using
 * lbc.h's map macros compiles, its BTF carries the map types and event decl tags, and it loads.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileProgram } from '../src/compile/compile-program.ts';
import { startSandboxFixture, type SandboxFixture } from '@lbc/test-support/sandbox-fixture';
import { ALL_MACROS_PROGRAM, TRACE_PROGRAM } from '@lbc/test-support/sample-programs';
import { KernelSetStore } from '../src/kernel-set/kernel-set.ts';
import { DEFAULT_SANDBOX_LIMITS, LABEL_JOB_DIR } from '../src/sandbox/hardening.ts';
import { SandboxContainer } from '../src/sandbox/sandbox-container.ts';
import { WarmPool, type CompileSlot } from '../src/sandbox/warm-pool.ts';
import { DEFAULT_IMAGE } from '@lbc/core';


let fx: SandboxFixture;
let work: string;

beforeAll(async () => {
  fx = await startSandboxFixture();
  work = mkdtempSync(join(tmpdir(), 'lbc-sandbox-test-'));
});
afterAll(async () => {
  await fx?.close();
  rmSync(work, { recursive: true, force: true });
});

/**
 * Kills a container listed as running a moment ago. A compile's container is removed in the
 * background once its object is taken, so one listed may be gone by now (409, 404): nothing to kill.
 */
const killIfRunning = (id: string) =>
  fx.docker
    .getContainer(id)
    .kill()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 409 && err.statusCode !== 404) throw err;
    });

const compile = async (name: string, source: string, extra = {}) => {
  const set = await fx.kernelSets.ensure(fx.job(name, source).btfSha256);
  return compileProgram({ pool: fx.pool, timeoutMs: 60_000 }, fx.job(name, source, extra), set);
};

describe('sandbox compile', () => {
  it('builds a kernel set with vmlinux.h and a precompiled header', async () => {
    const set = await fx.kernelSets.ensure(fx.job('x', '').btfSha256);
    expect(set.hasPch).toBe(true);
    expect(set.dir.startsWith(fx.dataDir)).toBe(true);
  });

  it('compiles lbc.h maps into an object whose BTF names their types and the event types', async () => {
    const result = await compile('hello', TRACE_PROGRAM);
    if (!result.ok) throw new Error(result.diagnostics);
    const object = result.object;
    const path = join(work, 'hello.bpf.o');
    writeFileSync(path, object);

    const btf = execFileSync('bpftool', ['btf', 'dump', 'file', path], { encoding: 'utf8' });
    expect(btf).toMatch(/VAR 'counts'/);
    expect(btf).toMatch(/STRUCT 'key_t' size=8 vlen=2/);
    expect(btf).toMatch(/STRUCT 'event' size=32 vlen=3/);
    expect(btf.match(/DECL_TAG 'lbc\.event=struct event'/g)).toHaveLength(2);
    // The decl tags point at the perf array's and the ring buffer's VARs.
    for (const map of ['e_out', 'events']) {
      const varId = new RegExp(`\\[(\\d+)\\] VAR '${map}'`).exec(btf)![1];
      expect(btf).toMatch(new RegExp(`DECL_TAG 'lbc\\.event=struct event' type_id=${varId} `));
    }
    expect(btf).toMatch(/VAR 'stacks'/);
    // No path of the service or the sandbox reaches the user's object through debug info.
    expect(object.includes(Buffer.from(fx.dataDir))).toBe(false);
  });

  it('the object loads on this kernel with the host libbpf (bpftool prog loadall)', async () => {
    const result = await compile('hello', TRACE_PROGRAM);
    if (!result.ok) throw new Error(result.diagnostics);
    const path = join(work, 'load.bpf.o');
    writeFileSync(path, result.object);
    const pin = `/sys/fs/bpf/lbc-test-${process.pid}-${Date.now()}`;
    mkdirSync(pin);
    try {
      execFileSync('bpftool', ['prog', 'loadall', path, pin], { stdio: 'pipe' });
      const progs = execFileSync('bpftool', ['prog', 'show', 'pinned', join(pin, 'on_exec'), '--json'], { encoding: 'utf8' });
      expect(JSON.parse(progs)).toMatchObject({ type: 'tracepoint', name: 'on_exec' });
    } finally {
      rmSync(pin, { recursive: true, force: true });
    }
  });

  it('a compile error is a result naming the user file, line and column, and no sandbox path', async () => {
    const source = '#include "lbc.h"\n\nSEC("tracepoint/sched/sched_process_exec")\nint f(void *ctx) {\n  return undefined_thing;\n}\n';
    const result = await compile('hello', source);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('LBC_ERR_COMPILE');
    expect(result.diagnostics).toMatch(/^hello\.bpf\.c:5:10: error: use of undeclared identifier 'undefined_thing'/m);
    expect(result.diagnostics).not.toMatch(/\/job\/|\/k\/|\/lbc\/|\/usr\/|lbc-worker-test/);
  });

  it('a compile that fails at once is answered when clang exits, every time, not at its time limit', async () => {
    // No object ever appears: only clang's exit ends the container's wait for one. bash used to
    // look for it with `kill -0`, which a clang not yet reaped passed for seconds, now and then
    // until the job's timeout (here it would be LBC_ERR_COMPILE_LIMIT).
    const source = '#include "no-such-header.h"\n';
    const set = await fx.kernelSets.ensure(fx.job('fails', source).btfSha256);
    const lane = async () => {
      for (let i = 0; i < 12; i++) {
        const result = await compileProgram({ pool: fx.pool, timeoutMs: 20_000 }, fx.job('fails', source), set);
        expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE', diagnostics: expect.stringMatching(/'no-such-header\.h' file not found/) });
      }
    };
    await Promise.all([lane(), lane()]);
  }, 240_000);
  it.each([
    ['an object', TRACE_PROGRAM, true],
    ['a compile error', '#include "lbc.h"\nint f(void) { return nope; }\n', false],
  ])('after %s the container stays up until its slot is released, then is removed: its teardown is not beside the answer', async (_, source, ok) => {
    const slots: CompileSlot[] = [];
    const acquire = fx.pool.acquire.bind(fx.pool);
    fx.pool.acquire = async (...args) => {
      const slot = await acquire(...args);
      slots.push(slot);
      return slot;
    };
    try {
      const result = await compile('stays', source);
      expect(result.ok).toBe(ok);
    } finally {
      fx.pool.acquire = acquire;
    }
    expect(slots.length).toBe(1);
    const container = slots[0]!.container.container;
    // The answer is there, and 300 ms later (an exited command's container is down by then) the
    // release (RELEASE_DELAY_MS, 1 s) has not come yet.
    await new Promise((r) => setTimeout(r, 300));
    expect((await container.inspect()).State.Running).toBe(true);
    const gone = async () => container.inspect().then(() => false, (err: { statusCode?: number }) => err.statusCode === 404);
    const deadline = Date.now() + 10_000;
    while (!(await gone()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await gone()).toBe(true);
  });

  it('an object the worker refuses after a success (over its size bound) is answered at once, not at the time limit', async () => {
    const set = await fx.kernelSets.ensure(fx.job('big', TRACE_PROGRAM).btfSha256);
    const started = Date.now();
    const result = await compileProgram({ pool: fx.pool, timeoutMs: 20_000, maxArtifactBytes: 512 }, fx.job('big', TRACE_PROGRAM), set);
    expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE_LIMIT', diagnostics: expect.stringMatching(/over the 512-byte limit/) });
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 60_000);

  it('diagnostics in an include and in lbc.h use the user-facing names', async () => {
    const source = '#include "lbc.h"\n#include "sub/defs.h"\nint x = LBC_H_VERSION + broken;\n';
    const result = await compile('prog', source, { includes: { 'sub/defs.h': '#pragma once\nstatic int y = ;\n' } });
    if (result.ok) throw new Error('expected errors');
    expect(result.diagnostics).toMatch(/^sub\/defs\.h:2:16: error: expected expression/m);
    expect(result.diagnostics).toMatch(/^prog\.bpf\.c:3:25: error: use of undeclared identifier 'broken'/m);
    expect(result.diagnostics).not.toMatch(/\/job\/|\/k\/|\/lbc\//);
  });

  it('the precompiled header and the plain header give the same object', async () => {
    const pch = await compile('same', TRACE_PROGRAM);
    // Defining a macro vmlinux.h tests (here to its own default) makes the program skip the PCH.
    const plain = await compile('same', TRACE_PROGRAM, { cflags: ['-D__weak=__attribute__((weak))'] });
    if (!pch.ok || !plain.ok) throw new Error('compile failed');
    const dump = (r: typeof pch, file: string) => {
      const path = join(work, file);
      writeFileSync(path, (r.ok ? r.object : Buffer.alloc(0)));
      return {
        btf: execFileSync('bpftool', ['btf', 'dump', 'file', path], { encoding: 'utf8' }),
        code: execFileSync('llvm-objdump-16', ['-d', '--no-show-raw-insn', path], { encoding: 'utf8' }).split('\n').slice(2).join('\n'),
      };
    };
    const a = dump(pch, 'pch.o');
    const b = dump(plain, 'plain.o');
    expect(a.code).toBe(b.code);
    // Type ids may be numbered differently; the named types must be the same.
    const named = (btf: string) => [...btf.matchAll(/^\[\d+\] (\w+) '([^']+)'/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    expect(named(a.btf)).toEqual(named(b.btf));
    console.log(`sandbox compile: with PCH ${pch.compileMs} ms, plain vmlinux.h ${plain.compileMs} ms`);
  });

  it('a warm spare that died (engine hiccup, kill) is replaced, not used', async () => {
    const set = await fx.kernelSets.ensure(fx.job('x', '').btfSha256);
    // Taking a slot starts a spare behind it; once the slot is released (its container removed),
    // the spare is the only compile container of this process.
    const slot = await fx.pool.acquire(set.dir);
    await slot.release();
    const running = () => fx.docker.listContainers({ filters: { label: [`lbc.owner.pid=${process.pid}`, 'lbc.role=compile'], status: ['running'] } });
    // Running within a second on a quiet machine; a loaded one may take longer.
    let spares = await running();
    for (const deadline = Date.now() + 30_000; spares.length === 0 && Date.now() < deadline; spares = await running()) await new Promise((r) => setTimeout(r, 100));
    expect(spares.length).toBeGreaterThan(0);
    // The engine answers the kill before the spare's attach stream has ended (at once when idle,
    // later under load): the pool must not take the spare for alive meanwhile.
    for (const spare of spares) await killIfRunning(spare.Id);
    const result = await compile('hello', TRACE_PROGRAM);
    expect(result.ok).toBe(true);
  });

  it('spares killed all at once (an engine restart) cost the job a container started for it, not a failure', async () => {
    const set = await fx.kernelSets.ensure(fx.job('x', '').btfSha256);
    const jobsDir = join(work, 'jobs-three-spares');
    const pool = new WarmPool({ docker: fx.docker, image: DEFAULT_IMAGE, jobsDir, limits: DEFAULT_SANDBOX_LIMITS, size: 3 });
    try {
      pool.prewarm(set.dir);
      const spares = async () =>
        (await fx.docker.listContainers({ filters: { label: [`lbc.owner.pid=${process.pid}`, 'lbc.role=compile'], status: ['running'] } })).filter((c) => c.Labels[LABEL_JOB_DIR]?.startsWith(jobsDir));
      await expect.poll(async () => (await spares()).length, { timeout: 30_000, interval: 100 }).toBe(3);
      for (const spare of await spares()) await killIfRunning(spare.Id);
      const result = await compileProgram({ pool, timeoutMs: 60_000 }, fx.job('hello', TRACE_PROGRAM), set);
      expect(result.ok).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('a slot is handed out with its job files written (prepare, beside the engine check of a warm spare); a failed prepare releases the slot and throws', async () => {
    const set = await fx.kernelSets.ensure(fx.job('x', '').btfSha256);
    const slot = await fx.pool.acquire(set.dir, async (s) => writeFileSync(join(s.job.src, 'prepared.c'), 'int prepared;'));
    expect(readFileSync(join(slot.job.src, 'prepared.c'), 'utf8')).toBe('int prepared;');
    expect(await slot.container.running()).toBe(true);
    await slot.release();
    let refused: CompileSlot | undefined;
    await expect(
      fx.pool.acquire(set.dir, async (s) => {
        refused = s;
        throw new Error('an input the job cannot write');
      }),
    ).rejects.toThrow('an input the job cannot write');
    // Released: its container and job dir go (after the pool's release delay).
    await expect.poll(() => existsSync(refused!.job.root), { timeout: 30_000, interval: 100 }).toBe(false);
  });

  it('a compile whose container is killed from outside is a sandbox fault to retry, not the program hitting a limit', async () => {
    const set = await fx.kernelSets.ensure(fx.job('x', '').btfSha256);
    // Without the precompiled header (a flag it was not built with) clang parses all of vmlinux.h: long enough to be killed mid-way.
    const job = fx.job('slow', '#include "vmlinux.h"\nint x;\n', { cflags: ['-D__weak=__attribute__((weak))'] });
    let launched!: () => void;
    const clangRuns = new Promise<void>((r) => (launched = r));
    const started = Date.now();
    const compiling = compileProgram({ pool: fx.pool, timeoutMs: 60_000, onClangRun: () => launched() }, job, set);
    compiling.catch(() => {});
    await clangRuns;
    await new Promise((r) => setTimeout(r, 150));
    const mine = await fx.docker.listContainers({ filters: { label: [`lbc.owner.pid=${process.pid}`, 'lbc.role=compile'], status: ['running'] } });
    for (const c of mine) await killIfRunning(c.Id);
    const err = await compiling.then(
      (result) => new Error(`expected a throw, got ${JSON.stringify(result).slice(0, 300)}`),
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'LBC_ERR_SANDBOX' });
    expect((err as Error).message).toMatch(/killed from outside/);
    expect(Date.now() - started).toBeLessThan(DEFAULT_SANDBOX_LIMITS.cpuSeconds * 1000);
    // And the pool serves the next compile from a live container.
    expect((await compile('hello', TRACE_PROGRAM)).ok).toBe(true);
  });

  it('a precompiled header clang rejects falls back to the plain vmlinux.h', async () => {
    const set = await fx.kernelSets.ensure(fx.job('x', '').btfSha256);
    const copy = join(work, 'stale-set');
    cpSync(set.dir, copy, { recursive: true, preserveTimestamps: true });
    // A header newer than its PCH: clang refuses the PCH ("has been modified since...").
    utimesSync(join(copy, 'vmlinux.h'), new Date(), new Date(Date.now() + 60_000));
    let runs = 0;
    const result = await compileProgram(
      { pool: fx.pool, timeoutMs: 60_000, onClangRun: () => void runs++ },
      fx.job('hello', TRACE_PROGRAM),
      { dir: copy, hasPch: true },
    );
    expect(result.ok).toBe(true);
    expect(runs).toBe(2);
  });

  it('concurrent builds of one kernel set (two stores, as two processes would) build it once', async () => {
    const dataDir = join(work, 'concurrent');
    const make = () => new KernelSetStore({ docker: fx.docker, redis: fx.redis, blobs: fx.blobs, image: DEFAULT_IMAGE, toolchain: fx.toolchain, dataDir, limits: DEFAULT_SANDBOX_LIMITS });
    const a = make();
    const b = make();
    const sha = fx.job('x', '').btfSha256;
    const started = await Promise.all([a.ensure(sha), b.ensure(sha), a.ensure(sha)]);
    expect(new Set(started.map((s) => s.dir)).size).toBe(1);
    expect(readdirSync(join(dataDir, 'kernelsets', sha))).toEqual([readdirSync(join(dataDir, 'kernelsets', sha))[0]]);
  });

  it('every lbc.h map macro, _(), the byte order helpers and lbc_debug compile and load; lbc_debug only with -DLBC_DEBUG', async () => {
    const quiet = await compile('all', ALL_MACROS_PROGRAM);
    const debug = await compile('all', ALL_MACROS_PROGRAM, { cflags: ['-DLBC_DEBUG'] });
    if (!quiet.ok) throw new Error(quiet.diagnostics);
    if (!debug.ok) throw new Error(debug.diagnostics);
    expect(quiet.object.includes('lbc-debug-marker')).toBe(false);
    expect(debug.object.includes('lbc-debug-marker')).toBe(true);
    const path = join(work, 'all.bpf.o');
    writeFileSync(path, debug.object);
    const btf = execFileSync('bpftool', ['btf', 'dump', 'file', path], { encoding: 'utf8' });
    for (const map of ['lru', 'pch', 'lpch', 'arr', 'parr']) expect(btf).toMatch(new RegExp(`VAR '${map}'`));
    expect(btf).toMatch(/STRUCT 'ev' size=8/);
    const pin = `/sys/fs/bpf/lbc-test-${process.pid}-${Date.now()}`;
    mkdirSync(pin);
    try {
      execFileSync('bpftool', ['prog', 'loadall', path, pin], { stdio: 'pipe' });
      expect(readdirSync(pin)).toContain('all_macros');
    } finally {
      rmSync(pin, { recursive: true, force: true });
    }
  });

  it.each(['x86_64', 'aarch64'])('a program on uapi headers (no vmlinux.h) finds the %s multiarch headers', async (arch) => {
    const source = [
      '#include <linux/bpf.h>',
      '#include <linux/errno.h>',
      '#include <asm/types.h>',
      '#include <bpf/bpf_helpers.h>',
      '#include <bpf/bpf_tracing.h>',
      'SEC("tracepoint/syscalls/sys_enter_openat")',
      'int on_open(void *ctx) { return -EPERM < 0 ? 0 : 1; }',
      'char LICENSE[] SEC("license") = "GPL";',
    ].join('\n');
    const result = await compile('uapi', source, { arch });
    expect(result.ok ? '' : result.diagnostics).toBe('');
  });
});

describe("a command's done marker", () => {
  const launchScript = async (script: string) => {
    const container = await SandboxContainer.start(fx.docker, { image: DEFAULT_IMAGE, cmd: ['sh', '-c', script], workingDir: '/', mounts: [], labels: { 'lbc.role': 'test' }, limits: DEFAULT_SANDBOX_LIMITS });
    const started = performance.now();
    const run = container.launch('\n', 30_000, { doneMarker: 'lbc-done-test' });
    const output = await run.output;
    const outputMs = performance.now() - started;
    const exit = await run.exit;
    await container.destroy();
    return { output, outputMs, exit, exitMs: performance.now() - started };
  };

  it('ends the output when it is the last stderr line, before the process exits; the marker is in neither stderr', async () => {
    const { output, outputMs, exit, exitMs } = await launchScript('read -r _; echo warning one >&2; echo lbc-done-test >&2; sleep 4');
    expect(output.stderr).toBe('warning one\n');
    expect(exit.stderr).toBe('warning one\n');
    expect(exit.exitCode).toBe(0);
    // The process sleeps 4 s after the marker: the output was taken at the marker, not at the exit.
    expect(exitMs - outputMs).toBeGreaterThan(2000);
    expect(exitMs).toBeGreaterThanOrEqual(4000);
  });

  it('ends the output after a flood of stderr past the cap too: the cap keeps the start, the marker is found in the tail', async () => {
    const { output, outputMs } = await launchScript("read -r _; head -c 400000 /dev/zero | tr '\\0' x >&2; echo >&2; echo lbc-done-test >&2; sleep 4");
    expect(output.truncated).toBe(true);
    expect(output.stderr).toMatch(/^x{1000}/);
    expect(output.stderr.length).toBeLessThanOrEqual(256 * 1024);
    expect(outputMs).toBeLessThan(3000);
  });

  it('anywhere but at the end it is only text: the output ends when the process does', async () => {
    // One write, so the marker never ends what has arrived so far: the real marker is the
    // command's last write, and two writes may reach the worker as two chunks.
    const { output, outputMs } = await launchScript("read -r _; printf 'lbc-done-test\\nsaid later\\n' >&2; sleep 2");
    expect(output.stderr).toBe('lbc-done-test\nsaid later\n');
    expect(outputMs).toBeGreaterThanOrEqual(2000);
  });

  it('followed by `exit N` it ends the run with status N at once, before the process exits', async () => {
    const { output, exit, exitMs } = await launchScript('read -r _; echo error one >&2; echo "lbc-done-test exit 3" >&2; sleep 4; exit 9');
    expect(output.stderr).toBe('error one\n');
    expect(exit).toMatchObject({ exitCode: 3, stderr: 'error one\n', timedOut: false, oomKilled: false });
    // The process sleeps 4 s after its report (and then exits 9): the status is the reported one.
    expect(exitMs).toBeLessThan(3000);
  });

  it("a signal's status after it (a kill, which the engine tells apart) is left to the engine", async () => {
    const { exit, exitMs } = await launchScript('read -r _; echo "lbc-done-test exit 137" >&2; sleep 2; exit 5');
    expect(exit.exitCode).toBe(5);
    expect(exit.stderr).toBe('');
    expect(exitMs).toBeGreaterThanOrEqual(2000);
  });

  it("a compile error's diagnostics come without it (nor any word of the strip)", async () => {
    const result = await compile('marked', `${TRACE_PROGRAM}\nint broken(;\n`);
    if (result.ok) throw new Error('expected a compile error');
    expect(result.code).toBe('LBC_ERR_COMPILE');
    expect(result.diagnostics).toMatch(/^marked\.bpf\.c:\d+:\d+: error: /m);
    expect(result.diagnostics).not.toMatch(/lbc-done|llvm-strip/);
  });

  it("a compile's diagnostics come without it", async () => {
    const result = await compile('marked', `${TRACE_PROGRAM}\n#warning a warning of its own\n`);
    if (!result.ok) throw new Error(result.diagnostics);
    expect(result.warnings).toMatch(/warning: a warning of its own/);
    // clang prints its count after its object is in place (when the strip starts): it still comes before the marker.
    expect(result.warnings).toMatch(/\n1 warning generated\.$/);
    expect(result.warnings).not.toMatch(/lbc-done/);
  });
});
