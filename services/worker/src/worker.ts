/**
 * The compile worker: a BullMQ consumer of COMPILE_QUEUE, composed of named parts — the compile
 * image, the sweep of dead workers' leftovers, the sandbox (kernel sets and warm containers), the
 * farm presence (heartbeat and Docker health), the job itself (compile/compile-job.ts) and the
 * shutdown. A worker killed mid-job loses its lock and the job runs again on another worker.
 */
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Worker } from 'bullmq';
import { DEFAULT_LIMITS } from '@lbc/contract';
import { borrowOrOwn, RedisOwner, COMPILE_QUEUE, toolchainIdentity, type BlobS3Settings, type CompileJobData, type CompileJobResult, type FarmBlobs } from '@lbc/core';
import { ensureImage, imageFromEnv } from './sandbox/compile-image.ts';
import { KernelSetStore } from './kernel-set/kernel-set.ts';
import { WarmPool } from './sandbox/warm-pool.ts';
import { publishHeaderDir } from './sandbox/header-dir.ts';
import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from './sandbox/hardening.ts';
import { startLeftoverSweep } from './sandbox/leftover-sweep.ts';
import { compileJobProcessor } from './compile/compile-job.ts';
import { startQueueWorker } from './queue-worker.ts';
import { startFarmPresence } from './farm/farm-presence.ts';
import { startBlobNode } from './farm/blob-node.ts';

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
  /** The process's Redis owner (one outage report for all its parts); absent ⇒ one of its own for redisUrl, on `log`. */
  redis?: RedisOwner;
  /** The kernel lab version of this process's verify worker, announced for the API's verdict cache; absent: it runs none. */
  labVersion?: string;
  /** The farm's S3-compatible blob store; absent: objects stay on this host's disk, served to other nodes by hash (farm/blob-node.ts). */
  blobS3?: BlobS3Settings;
  /** Where other nodes reach this worker's blob endpoint, and its port (blob-node.ts has the defaults). */
  blobAdvertiseUrl?: string;
  blobPort?: number;
  /** The one address the blob endpoint listens on (blob-node.ts's listenHost); the launcher's private-Redis farm uses loopback. */
  blobListenHost?: string;
  /** Life of the location records this worker writes (BLOB_LOCATION_TTL_SECONDS by default). */
  blobLocationTtlSeconds?: number;
}

export interface RunningWorker {
  /** The toolchain identity this worker compiles with (it refuses jobs asking for another). */
  toolchain: string;
  /** Its id in the worker registry (REDIS_KEYS.workers). */
  id: string;
  /** Where it publishes objects and reads kernel BTF (the ingest and verify workers of its process share it). */
  blobs: FarmBlobs;
  worker: Worker<CompileJobData, CompileJobResult>;
  close(): Promise<void>;
}

/** The compile image, pulled or built when missing, and its toolchain identity (part of every cache key). */
async function prepareImage(docker: Dockerode, image: string): Promise<string> {
  await ensureImage(docker, image);
  return toolchainIdentity(docker, image);
}

/** Kernel sets and warm containers, the pool prewarmed for the kernel compiled for last. */
async function openSandbox(opts: WorkerOptions, docker: Dockerode, image: string, toolchain: string, redis: Redis, blobs: FarmBlobs, limits: SandboxLimits, concurrency: number) {
  const jobsDir = join(opts.dataDir, 'jobs');
  // Compiles and the precompiled lbc.h read lbc.h from the same files (clang checks their mtimes).
  const headerDir = publishHeaderDir(opts.dataDir);
  const kernelSets = new KernelSetStore({ docker, redis, blobs, image, toolchain, dataDir: opts.dataDir, limits, buildTimeoutMs: opts.kernelSetTimeoutMs, buildCpuSeconds: opts.kernelSetCpuSeconds, headerDir });
  const pool = new WarmPool({ docker, image, jobsDir, limits, size: opts.warmContainers ?? concurrency + 1, headerDir });
  const recent = await kernelSets.mostRecent();
  if (recent) pool.prewarm(recent);
  return { kernelSets, pool };
}

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const docker = opts.docker ?? new Dockerode();
  const image = opts.image ?? imageFromEnv();
  const concurrency = opts.concurrency ?? 1;
  const jobsDir = join(opts.dataDir, 'jobs');
  const toolchain = await prepareImage(docker, image);
  const sweep = await startLeftoverSweep(docker, jobsDir, opts.leftoverSweepMs);

  const limits = { ...DEFAULT_SANDBOX_LIMITS, maxFileBytes: (opts.maxArtifactBytes ?? DEFAULT_LIMITS.maxArtifactBytes) + 1 };
  const { redis: owner, owned } = borrowOrOwn(opts.redis, () => new RedisOwner({ url: opts.redisUrl, timeoutMs: 5000, log: opts.log, name: 'lbc-worker' }));
  const redis = owner.openBlocking();
  const blobNode = await startBlobNode({ redis, dataDir: opts.dataDir, ...(opts.blobS3 ? { s3: opts.blobS3 } : {}), ...(opts.blobAdvertiseUrl ? { advertiseUrl: opts.blobAdvertiseUrl } : {}), ...(opts.blobPort !== undefined ? { port: opts.blobPort } : {}), ...(opts.blobLocationTtlSeconds ? { locationTtlSeconds: opts.blobLocationTtlSeconds } : {}), ...(opts.blobListenHost ? { listenHost: opts.blobListenHost } : {}) });
  const blobs = blobNode.blobs;
  const { kernelSets, pool } = await openSandbox(opts, docker, image, toolchain, redis, blobs, limits, concurrency);

  const busy = { active: 0 };
  // Created below; Docker health pauses and resumes it.
  let worker: Worker<CompileJobData, CompileJobResult> | undefined;
  const farm = startFarmPresence({
    docker,
    redis,
    heartbeatMs: opts.heartbeatMs,
    report: () => ({ toolchain, image, concurrency, active: busy.active, ...(opts.labVersion ? { labVersion: opts.labVersion } : {}) }),
    onDocker: (ok) => (ok ? worker?.resume() : void worker?.pause(true)),
  });
  const sandbox = { kernelSets, pool, docker, image, dataDir: opts.dataDir, jobsDir, limits };
  const processJob = compileJobProcessor({
    ...sandbox,
    toolchain,
    redis,
    blobs,
    busy,
    log: opts.log,
    compileTimeoutMs: opts.compileTimeoutMs,
    maxArtifactBytes: opts.maxArtifactBytes,
    dockerOk: () => farm.dockerOk(),
    workerId: () => farm.id,
  });
  const consumer = await startQueueWorker({
    redis: owner,
    queueName: opts.queueName ?? COMPILE_QUEUE,
    process: processJob,
    concurrency,
    // Recorded on each job as processedBy: which worker ran it.
    name: farm.id,
    lockDurationMs: opts.lockDurationMs ?? 30_000,
    stalledIntervalMs: opts.stalledIntervalMs ?? 30_000,
  });
  worker = consumer.worker;

  return {
    toolchain,
    id: farm.id,
    worker: consumer.worker,
    blobs,
    async close() {
      if (owned) owner.closing();
      sweep.stop();
      await farm.stop();
      await consumer.close();
      await pool.close();
      await blobNode.close();
      owner.release(redis);
      if (owned) owner.close();
    },
  };
}
