/**
 * The compile worker: a BullMQ consumer of COMPILE_QUEUE. Compile errors come back as results
 * (never retried); sandbox and Redis faults throw so BullMQ retries with the producer's backoff;
 * a worker killed mid-job loses its lock and the job runs again on another worker.
 */
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { isLbcError, LbcError, DEFAULT_LIMITS } from '@lbc/contract';
import { INPUT_FAULTS, createBlockingRedis, fallbackLogger, hostPathScrub, RedisConnectionLog, liveWorkers, COMPILE_QUEUE, ensureImage, imageFromEnv, toolchainIdentity, type CompileJobData, type CompileJobProgress, type CompileJobResult } from '@lbc/core';
import { KernelSetStore } from './kernel-set/kernel-set.ts';
import { WarmPool } from './sandbox/warm-pool.ts';
import { publishHeaderDir } from './sandbox/header-dir.ts';
import { DEFAULT_SANDBOX_LIMITS } from './sandbox/hardening.ts';
import { removeLeftovers } from './sandbox/leftovers.ts';
import { compileProgram } from './compile/compile-program.ts';
import { minimizeBtf } from './compile/min-core-btf.ts';
import { countCompile } from './stats.ts';
import { closeWorker } from './close-worker.ts';
import { publicError, publicResult } from './public-output.ts';
import { DockerHealth } from './farm/docker-health.ts';
import { startPresence } from './farm/presence.ts';

export interface WorkerOptions {
  redisUrl: string;
  /** Kernel sets and job directories live here. */
  dataDir: string;
  image?: string;
  concurrency?: number;
  docker?: Dockerode;
  /** BullMQ job lock; a dead worker's job is taken over after about this long. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Spare started containers; defaults to `concurrency + 1`. */
  warmContainers?: number;
  /** Wall-clock bound of one clang run. */
  compileTimeoutMs?: number;
  /** Bounds of each tool run that builds a kernel set from uploaded BTF (kernel-set.ts has the defaults). */
  kernelSetTimeoutMs?: number;
  kernelSetCpuSeconds?: number;
  maxArtifactBytes?: number;
  queueName?: string;
  /** How often containers of dead workers on this host are swept (also once at start). */
  leftoverSweepMs?: number;
  /** Structured log of each job (reqId, jobId, tenant, outcome, ms); absent ⇒ only BullMQ's job log. */
  log?: Logger;
  /** Heartbeat period in Redis (worker registry). */
  heartbeatMs?: number;
  /** Where a Redis outage is reported (once per outage); absent ⇒ one of its own on `log`. */
  redisLog?: RedisConnectionLog;
  /** The kernel lab version of this process's verify worker, announced for the API's verdict cache; absent: it runs none. */
  labVersion?: string;
}

export interface RunningWorker {
  /** The toolchain identity this worker compiles with (it refuses jobs asking for another). */
  toolchain: string;
  /** Its id in the worker registry (lbc:workers). */
  id: string;
  worker: Worker<CompileJobData, CompileJobResult>;
  close(): Promise<void>;
}

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const docker = opts.docker ?? new Dockerode();
  const image = opts.image ?? imageFromEnv();
  const concurrency = opts.concurrency ?? 1;
  await ensureImage(docker, image);
  const toolchain = await toolchainIdentity(docker, image);
  const jobsDir = join(opts.dataDir, 'jobs');
  const roots = { [opts.dataDir]: '<data>' };
  const scrub = hostPathScrub(roots);
  // clang's quoted paths are the user's own names inside the sandbox: kept.
  const scrubDiagnostics = hostPathScrub(roots, { keepQuotedPaths: true });
  await removeLeftovers(docker, jobsDir);

  const limits = { ...DEFAULT_SANDBOX_LIMITS, maxFileBytes: (opts.maxArtifactBytes ?? DEFAULT_LIMITS.maxArtifactBytes) + 1 };
  const connLog = opts.redisLog ?? new RedisConnectionLog(opts.log ?? fallbackLogger('lbc-worker'), opts.redisUrl);
  const redis = createBlockingRedis(opts.redisUrl, connLog);
  const kernelSets = new KernelSetStore({ docker, redis, image, toolchain, dataDir: opts.dataDir, limits, buildTimeoutMs: opts.kernelSetTimeoutMs, buildCpuSeconds: opts.kernelSetCpuSeconds });
  const pool = new WarmPool({ docker, image, jobsDir, limits, size: opts.warmContainers ?? concurrency + 1, headerDir: publishHeaderDir(opts.dataDir) });
  // A request a dead worker sent just before dying can still create a container afterwards: sweep again now and then.
  const sweep = setInterval(() => void removeLeftovers(docker, jobsDir).catch(() => {}), opts.leftoverSweepMs ?? 60_000);
  sweep.unref();
  const recent = await kernelSets.mostRecent();
  if (recent) pool.prewarm(recent);

  let active = 0;
  // Created below; Docker health pauses and resumes it.
  let worker: Worker<CompileJobData, CompileJobResult> | undefined;
  const health = new DockerHealth({
    docker,
    onChange: (ok) => {
      if (ok) worker?.resume();
      else void worker?.pause(true);
      presence.beat();
    },
  });
  const presence = startPresence(redis, () => ({ toolchain, image, dockerOk: health.ok, concurrency, active, ...(opts.labVersion ? { labVersion: opts.labVersion } : {}) }), opts.heartbeatMs);
  // An idle worker notices a lost engine too, so the API can refuse compiles before one fails.
  const dockerWatch = setInterval(() => void health.check(), opts.heartbeatMs ?? 2000);
  dockerWatch.unref();

  const processJob = async (job: Job<CompileJobData, CompileJobResult>, token?: string): Promise<CompileJobResult> => {
    active++;
    const began = Date.now();
    const { requestId, tenant, name } = job.data;
    // reqId is the API request that queued the job: grep it across API and worker logs.
    const log = opts.log?.child({ reqId: requestId, jobId: job.id, tenant, program: name, attempt: job.attemptsMade + 1 });
    await job.log(`reqId=${requestId ?? '-'} tenant=${tenant ?? '-'} worker=${presence.id} attempt=${job.attemptsMade + 1}`).catch(() => {});
    try {
      // Another compile image than ours: leave the job to a worker that has it, if one is alive,
      // without using an attempt (workers of both images may share a queue during an upgrade).
      if (job.data.toolchain !== toolchain && (await liveWorkers(redis)).some((w) => w.toolchain === job.data.toolchain)) {
        await job.moveToDelayed(Date.now() + 500, token);
        throw new DelayedError();
      }
      const result = await runJob(job);
      log?.info({ ms: Date.now() - began, ok: result.ok }, result.ok ? 'compiled' : 'compile error, diagnostics returned');
      return publicResult(result, scrub, scrubDiagnostics);
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      log?.warn({ ms: Date.now() - began, err: (err as Error).message, stack: (err as Error).stack }, 'compile job failed');
      // Docker gone is not the job's fault: back to the queue without using an attempt.
      if (!(err instanceof UnrecoverableError) && !(await health.check())) {
        await job.moveToDelayed(Date.now() + 1000, token);
        throw new DelayedError();
      }
      throw publicError(err, scrub);
    } finally {
      active--;
    }
  };

  const runJob = async (job: Job<CompileJobData, CompileJobResult>): Promise<CompileJobResult> => {
    const data = job.data;
    if (data.toolchain !== toolchain) {
      throw new LbcError('LBC_ERR_SANDBOX', `job wants toolchain "${data.toolchain}" but this worker has "${toolchain}"`);
    }
    const progress = (stage: CompileJobProgress['stage'], percent: number) => job.updateProgress({ stage, percent } satisfies CompileJobProgress);
    try {
      await progress('kernel-set', 10);
      const kernelSet = await kernelSets.ensure(data.btfSha256);
      await progress('compiling', 40);
      const result = await compileProgram(
        { pool, timeoutMs: opts.compileTimeoutMs ?? 60_000, maxArtifactBytes: opts.maxArtifactBytes, onClangRun: () => countCompile(redis) },
        data,
        kernelSet,
      );
      if (result.ok && data.minBtf) {
        await progress('storing', 90);
        // A failed minimization leaves the object usable with the kernel's whole BTF (btfUrl).
        const min = await minimizeBtf(
          { docker, image, jobsDir, limits, timeoutMs: opts.compileTimeoutMs ?? 60_000, maxBytes: opts.maxArtifactBytes ?? DEFAULT_LIMITS.maxArtifactBytes },
          kernelSet.dir,
          Buffer.from(result.objectBase64, 'base64'),
        );
        if (min.ok) result.minBtfBase64 = min.bytes.toString('base64');
        else result.minBtfError = min.reason;
      }
      await progress('done', 100);
      return result;
    } catch (err) {
      // The input's fault: retrying cannot fix it, and the API reports it with its own code.
      if (isLbcError(err) && INPUT_FAULTS.has(err.code)) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    }
  };

  const connection = createBlockingRedis(opts.redisUrl, connLog);
  worker = new Worker<CompileJobData, CompileJobResult>(opts.queueName ?? COMPILE_QUEUE, processJob, {
    connection,
    concurrency,
    // Recorded on each job as processedBy: which worker ran it.
    name: presence.id,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: 2,
  });
  worker.on('error', connLog.onError);
  await worker.waitUntilReady();
  const started = worker;

  return {
    toolchain,
    id: presence.id,
    worker: started,
    async close() {
      clearInterval(sweep);
      clearInterval(dockerWatch);
      health.stop();
      if (!opts.redisLog) connLog.close();
      await presence.stop();
      await closeWorker(started, connection, connLog);
      await pool.close();
      // ioredis's own disconnect: BullMQ's would wait for an 'end' a reconnecting client never emits.
      connection.disconnect();
      redis.disconnect();
    },
  };
}
