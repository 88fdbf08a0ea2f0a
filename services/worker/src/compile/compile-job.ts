/**
 * One compile job on a worker: the kernel set, clang in a warm sandbox, the minimized BTF when asked,
 * the job's public result. Compile errors are results (never retried); an input fault fails the job
 * at once; a job for another compile image waits for a worker that has it; Docker gone puts the job
 * back without using an attempt; other faults throw so BullMQ retries with the producer's backoff.
 */
import type Dockerode from 'dockerode';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DelayedError, UnrecoverableError, type Job, type Processor } from 'bullmq';
import { isLbcError, LbcError, DEFAULT_LIMITS } from '@lbc/contract';
import { INPUT_FAULTS, hostPathScrub, stageMark, liveWorkers, type CompileJobData, type CompileJobProgress, type CompileJobResult, type FarmBlobs } from '@lbc/core';
import type { KernelSetStore } from '../kernel-set/kernel-set.ts';
import type { WarmPool } from '../sandbox/warm-pool.ts';
import type { SandboxLimits } from '../sandbox/hardening.ts';
import { compileProgram } from './compile-program.ts';
import { minimizeBtf } from './min-core-btf.ts';
import { countCompile } from '../stats.ts';
import { publicError, publicResult } from '../public-output.ts';

export interface CompileJobDeps {
  toolchain: string;
  /** The worker's own waiting connection: the worker registry, the compile counter. */
  redis: Redis;
  /** Where the object (and its minimized BTF) is published by hash. */
  blobs: FarmBlobs;
  kernelSets: KernelSetStore;
  pool: WarmPool;
  docker: Dockerode;
  image: string;
  dataDir: string;
  jobsDir: string;
  limits: SandboxLimits;
  compileTimeoutMs?: number;
  maxArtifactBytes?: number;
  /** Whether the Docker engine answers now (farm/docker-health.ts). */
  dockerOk(): Promise<boolean>;
  /** The worker's id in the registry, logged with each job. */
  workerId(): string;
  /** Counts the jobs in hand (the heartbeat reports them). */
  busy: { active: number };
  log?: Logger;
}

export function compileJobProcessor(deps: CompileJobDeps): Processor<CompileJobData, CompileJobResult> {
  const roots = { [deps.dataDir]: '<data>' };
  const scrub = hostPathScrub(roots);
  // clang's quoted paths are the user's own names inside the sandbox: kept.
  const scrubDiagnostics = hostPathScrub(roots, { keepQuotedPaths: true });

  return async (job, token) => {
    stageMark('worker.pickup', job.id);
    deps.busy.active++;
    const began = Date.now();
    const { requestId, tenant, name } = job.data;
    // reqId is the API request that queued the job: grep it across API and worker logs.
    const log = deps.log?.child({ reqId: requestId, jobId: job.id, tenant, program: name, attempt: job.attemptsMade + 1 });
    // Not waited for: the job's own connection sends it before the job's result.
    void job.log(`reqId=${requestId ?? '-'} tenant=${tenant ?? '-'} worker=${deps.workerId()} attempt=${job.attemptsMade + 1}`).catch(() => {});
    try {
      // Another compile image than ours: leave the job to a worker that has it, if one is alive,
      // without using an attempt (workers of both images may share a queue during an upgrade).
      if (job.data.toolchain !== deps.toolchain && (await liveWorkers(deps.redis)).some((w) => w.toolchain === job.data.toolchain)) {
        await job.moveToDelayed(Date.now() + 500, token);
        throw new DelayedError();
      }
      const result = await runCompile(deps, job);
      log?.info({ ms: Date.now() - began, ok: result.ok }, result.ok ? 'compiled' : 'compile error, diagnostics returned');
      stageMark('worker.return', job.id);
      return publicResult(result, scrub, scrubDiagnostics);
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      log?.warn({ ms: Date.now() - began, err: (err as Error).message, stack: (err as Error).stack }, 'compile job failed');
      // Docker gone is not the job's fault: back to the queue without using an attempt.
      if (!(err instanceof UnrecoverableError) && !(await deps.dockerOk())) {
        await job.moveToDelayed(Date.now() + 1000, token);
        throw new DelayedError();
      }
      throw publicError(err, scrub);
    } finally {
      deps.busy.active--;
    }
  };
}

async function runCompile(deps: CompileJobDeps, job: Job<CompileJobData, CompileJobResult>): Promise<CompileJobResult> {
  const data = job.data;
  if (data.toolchain !== deps.toolchain) {
    throw new LbcError('LBC_ERR_SANDBOX', `job wants toolchain "${data.toolchain}" but this worker has "${deps.toolchain}"`);
  }
  // Not waited for (a Redis round trip each on the compile's path): sent in order on the job's
  // connection, ahead of its result; a lost one only leaves a poller's progress behind.
  const progress = (stage: CompileJobProgress['stage'], percent: number) => void job.updateProgress({ stage, percent } satisfies CompileJobProgress).catch(() => {});
  try {
    progress('kernel-set', 10);
    const kernelSet = await deps.kernelSets.ensure(data.btfSha256);
    stageMark('worker.kernel-set');
    progress('compiling', 40);
    stageMark('worker.progress-40');
    const compiled = await compileProgram(
      { pool: deps.pool, timeoutMs: deps.compileTimeoutMs ?? 60_000, maxArtifactBytes: deps.maxArtifactBytes, onClangRun: () => countCompile(deps.redis), lbcPch: (set, arch) => deps.kernelSets.lbcPch(set, arch) },
      data,
      kernelSet,
    );
    stageMark('worker.compiled');
    if (!compiled.ok) return compiled;
    // Published once, here, by hash: the job result carries the reference, never the bytes.
    const { object } = compiled;
    const result: CompileJobResult = { ok: true, sha256: await deps.blobs.put(object), size: object.length, warnings: compiled.warnings, compileMs: compiled.compileMs };
    if (data.minBtf) {
      progress('storing', 90);
      await addMinBtf(deps, kernelSet.dir, object, result);
    }
    progress('done', 100);
    stageMark('worker.progress-100');
    return result;
  } catch (err) {
    // The input's fault: retrying cannot fix it, and the API reports it with its own code.
    if (isLbcError(err) && INPUT_FAULTS.has(err.code)) throw new UnrecoverableError(`${err.code}: ${err.message}`);
    throw err;
  }
}

/** The object's minimized BTF; a failed minimization leaves the object usable with the kernel's whole BTF (btfUrl). */
async function addMinBtf(deps: CompileJobDeps, kernelSetDir: string, object: Buffer, result: Extract<CompileJobResult, { ok: true }>): Promise<void> {
  const min = await minimizeBtf(
    { docker: deps.docker, image: deps.image, jobsDir: deps.jobsDir, limits: deps.limits, timeoutMs: deps.compileTimeoutMs ?? 60_000, maxBytes: deps.maxArtifactBytes ?? DEFAULT_LIMITS.maxArtifactBytes },
    kernelSetDir,
    object,
  );
  if (min.ok) result.minBtf = { sha256: await deps.blobs.put(min.bytes), size: min.bytes.length };
  else result.minBtfError = min.reason;
}
