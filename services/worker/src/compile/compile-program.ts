/**
 * One compile job, start to finish inside the sandbox: validate, write the files into a warm
 * container's job directory, run clang, classify the outcome, read and check the object.
 * Compile errors and limit hits are results; only sandbox faults throw.
 */
import { createHash } from 'node:crypto';
import { ARCHES, DEFAULT_LIMITS, isLbcError, NAME_PATTERN, LbcError, validateCflags, validateIncludePaths } from '@lbc/contract';
import { scanSource, stageMark, type CompileJobData, type CompileJobResult } from '@lbc/core';
import type { KernelSet } from '../kernel-set/kernel-set.ts';
import { STRIP_FAILED, STRIP_FAILED_STATUS, type CompileSlot, type WarmPool } from '../sandbox/warm-pool.ts';
import type { RunOutcome, RunOutput } from '../sandbox/sandbox-container.ts';
import { readObject, writeJobFiles, type JobDir } from '../sandbox/job-dir.ts';
import { compileArgs, mainFileName, objectFileName, pchAllowedForFlags, responseFile, SANDBOX_KERNEL_PCH } from './clang-args.ts';
import { cleanDiagnostics } from './diagnostics.ts';
import { isBpfObject } from './elf-check.ts';
import { needsImplicitLbcHeader, startsWithKernelHeader, startsWithLbcHeader } from './kernel-header-use.ts';
import { uploadsShadow, type LbcPch } from '../kernel-set/lbc-pch.ts';

export interface CompileSettings {
  pool: WarmPool;
  maxArtifactBytes?: number;
  /** Wall-clock bound of one clang run; the container is killed beyond it. */
  timeoutMs: number;
  /** Called once per real clang run (the dedup counter). */
  onClangRun?: () => Promise<void> | void;
  /** The kernel set's precompiled lbc.h for an arch (KernelSetStore.lbcPch); without it, only vmlinux.h's. */
  lbcPch?: (kernelSet: KernelSet, arch: string) => Promise<LbcPch | undefined>;
}

type Failure = Extract<CompileJobResult, { ok: false }>;

/**
 * One compile's outcome with the object inline: the worker publishes it in the farm blob store by
 * hash and answers the job with the reference only (compile/compile-job.ts); the bytes never cross Redis.
 */
export type CompiledProgram = Failure | { ok: true; object: Buffer; sha256: string; warnings: string; compileMs: number };

const failure = (code: Failure['code'], diagnostics: string): Failure => ({ ok: false, code, diagnostics });

/** A user's mistake found on the way (a bad name, a bad flag) is a result, not a fault to retry. */
function userFailure(err: unknown): Failure | undefined {
  return isLbcError(err) && err.status >= 400 && err.status < 500 ? failure('LBC_ERR_COMPILE', `${err.code}: ${err.message}`) : undefined;
}

function validate(data: CompileJobData): Failure | undefined {
  try {
    if (!NAME_PATTERN.test(data.name)) throw new LbcError('LBC_ERR_BAD_REQUEST', `program name ${JSON.stringify(data.name)}`);
    if (!(ARCHES as readonly string[]).includes(data.arch)) throw new LbcError('LBC_ERR_BAD_REQUEST', `arch ${JSON.stringify(data.arch)}`);
    validateCflags(data.cflags);
    validateIncludePaths(Object.keys(data.includes), mainFileName(data.name));
    scanSource({ [mainFileName(data.name)]: data.source, ...data.includes });
    return undefined;
  } catch (err) {
    const failed = userFailure(err);
    if (failed) return failed;
    throw err;
  }
}

function limitFailure(run: RunOutcome, timeoutMs: number): Failure | undefined {
  if (run.timedOut) return failure('LBC_ERR_COMPILE_LIMIT', `the compile ran longer than ${Math.round(timeoutMs / 1000)} s and was stopped`);
  if (run.oomKilled) return failure('LBC_ERR_COMPILE_LIMIT', 'the compile ran out of memory and was stopped');
  if (run.cpuLimited) return failure('LBC_ERR_COMPILE_LIMIT', 'the compile exceeded its CPU time and was stopped');
  // Not the program's fault, and not to be remembered as its result: thrown, so the job runs again.
  if (run.killedOutside) {
    throw new LbcError('LBC_ERR_SANDBOX', `the compile container was killed from outside after ${Math.round(run.ms)} ms (not by its time, memory or CPU limit: the engine restarted, or another process removed it)`);
  }
  // clang exits 1 on errors, so a program's own #error cannot pass for this.
  if (run.exitCode === STRIP_FAILED_STATUS && run.stderr.trimEnd().endsWith(STRIP_FAILED)) {
    throw new LbcError('LBC_ERR_SANDBOX', `stripping the object's DWARF failed in the sandbox: ${run.stderr.slice(-500)}`);
  }
  if (/File too large|file size limit/i.test(run.stderr)) return failure('LBC_ERR_COMPILE_LIMIT', 'the object exceeded the size limit');
  return undefined;
}

const PCH_REJECTED = /precompiled header|PCH file|\.pch/i;

/** An attempt whose slot was gone before its job ran: taken again on another. */
const DEAD_SLOT = Symbol('dead slot');

interface RunContext {
  name: string;
  userFiles: ReadonlySet<string>;
  maxBytes: number;
  timeoutMs: number;
}

function success(bytes: Buffer, output: RunOutput, ctx: RunContext): CompiledProgram {
  let warnings = cleanDiagnostics(output.stderr, ctx.userFiles);
  if (output.truncated) warnings += '\n(diagnostics truncated)';
  return {
    ok: true,
    object: bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    warnings,
    compileMs: Math.round(output.ms),
  };
}

async function successFromOutput(output: RunOutput, job: JobDir, ctx: RunContext): Promise<CompiledProgram | undefined> {
  const object = await readObject(job, objectFileName(ctx.name), ctx.maxBytes);
  return object.ok && isBpfObject(object.bytes) ? success(object.bytes, output, ctx) : undefined;
}

/** What clang's exit and output mean for the user: a limit, a compile error, or a checked object. */
async function classifyRun(
  run: RunOutcome,
  job: JobDir,
  ctx: RunContext,
): Promise<CompiledProgram> {
  const limited = limitFailure(run, ctx.timeoutMs);
  if (limited) return limited;
  let diagnostics = cleanDiagnostics(run.stderr, ctx.userFiles);
  if (run.truncated) diagnostics += '\n(diagnostics truncated)';
  if (run.exitCode !== 0) return failure('LBC_ERR_COMPILE', diagnostics || `clang exited with status ${run.exitCode}`);
  const object = await readObject(job, objectFileName(ctx.name), ctx.maxBytes);
  if (!object.ok) return failure(object.reason === 'too-large' ? 'LBC_ERR_COMPILE_LIMIT' : 'LBC_ERR_COMPILE', object.detail);
  if (!isBpfObject(object.bytes)) return failure('LBC_ERR_COMPILE', 'the compiler output is not a BPF ELF object');
  return success(object.bytes, run, ctx);
}

/**
 * The precompiled lbc.h, when it expands for this program exactly as lbc.h would: lbc.h comes
 * first (its first line, or included for it), no -D/-U of the user can change what it expands
 * to, and no uploaded file takes the place of one of the headers it was built from.
 */
async function precompiledLbcHeader(settings: CompileSettings, data: CompileJobData, kernelSet: KernelSet, implicitLbcHeader: boolean): Promise<string | undefined> {
  if (!settings.lbcPch || data.cflags.length > 0) return undefined;
  if (!implicitLbcHeader && !startsWithLbcHeader(data.source)) return undefined;
  // A header that cannot be built (an engine fault) leaves the compile to vmlinux.h's.
  const built = await settings.lbcPch(kernelSet, data.arch).catch(() => undefined);
  if (!built || uploadsShadow(built.inputs, Object.keys(data.includes))) return undefined;
  return built.sandboxPath;
}

export async function compileProgram(settings: CompileSettings, data: CompileJobData, kernelSet: KernelSet): Promise<CompiledProgram> {
  const invalid = validate(data);
  if (invalid) return invalid;
  const maxBytes = settings.maxArtifactBytes ?? DEFAULT_LIMITS.maxArtifactBytes;
  const mainFile = mainFileName(data.name);
  const userFiles = new Set([mainFile, ...Object.keys(data.includes)]);
  const implicitLbcHeader = needsImplicitLbcHeader(data.source, data.includes);
  const usePch = kernelSet.hasPch && pchAllowedForFlags(data.cflags) && (implicitLbcHeader || startsWithKernelHeader(data.source));
  // Looked up while the slot is acquired (its files written, its container checked).
  const pchChoice = usePch ? precompiledLbcHeader(settings, data, kernelSet, implicitLbcHeader).then((lbc) => lbc ?? SANDBOX_KERNEL_PCH) : Promise.resolve(undefined);
  pchChoice.catch(() => {});

  const ctx = { name: data.name, userFiles, maxBytes, timeoutMs: settings.timeoutMs };
  type Attempt = { stderr: string; pch: string | undefined; result: CompiledProgram } | typeof DEAD_SLOT;
  const attempt = async (pchChosen: Promise<string | undefined>, fresh = false): Promise<Attempt> => {
    stageMark('worker.acquire');
    let slot: CompileSlot;
    try {
      slot = await settings.pool.acquire(kernelSet.dir, (s) => writeJobFiles(s.job, mainFile, data.source, data.includes), { fresh });
    } catch (err) {
      const failed = userFailure(err);
      if (failed) return { stderr: '', pch: undefined, result: failed };
      throw err;
    }
    stageMark('worker.acquired');
    try {
      const pch = await pchChosen;
      const args = compileArgs({ name: data.name, arch: data.arch, cflags: data.cflags, pch, implicitLbcHeader });
      if (!slot.container.alive) return DEAD_SLOT;
      stageMark('worker.launch');
      const run = slot.container.launch(responseFile(args), settings.timeoutMs, { doneMarker: slot.doneMarker });
      // A warm spare the engine says is gone (killed since it started) gives no answer to trust.
      const dead = slot.confirmed.then((alive) => (alive ? new Promise<never>(() => {}) : DEAD_SLOT));
      // Counted while clang runs, not before it starts; done before the job's result.
      const counted = slot.confirmed.then((alive) => alive && settings.onClangRun?.());
      counted.catch(() => {});
      // clang leaves its object only when it succeeds, and the strip before the command marks its
      // output done: with an object there, the exit status adds nothing.
      const output = await Promise.race([run.output, dead]);
      if (output === DEAD_SLOT) return DEAD_SLOT;
      await counted;
      stageMark('worker.output', `${Math.round(output.ms)}ms`);
      const early = await successFromOutput(output, slot.job, ctx);
      stageMark('worker.object-read');
      if (early) return { stderr: output.stderr, pch, result: early };
      // A dead spare's run ends at once with nothing in it: its exit is no compile's.
      const outcome = await Promise.race([run.exit, dead]);
      if (outcome === DEAD_SLOT || !(await slot.confirmed)) return DEAD_SLOT;
      return { stderr: outcome.stderr, pch, result: await classifyRun(outcome, slot.job, ctx) };
    } finally {
      void slot.release();
    }
  };
  // A dead spare costs a container started for the job (the other spares may be dead too).
  const settled = async (pchChosen: Promise<string | undefined>) => {
    const tried = await attempt(pchChosen);
    if (tried !== DEAD_SLOT) return tried;
    const again = await attempt(pchChosen, true);
    if (again === DEAD_SLOT) throw new LbcError('LBC_ERR_SANDBOX', 'a compile container started for the job was gone before the job ran: is the Docker engine restarting?');
    return again;
  };

  const first = await settled(pchChoice);
  if (first.pch && !first.result.ok && PCH_REJECTED.test(first.stderr)) return (await settled(Promise.resolve(undefined))).result;
  return first.result;
}
