/**
 * The ingest worker: a BullMQ consumer of INGEST_QUEUE beside the compile worker, in the same
 * process. The job names its package by hash (fetched through the farm blob store); the package
 * becomes raw BTF in the ingest container; the kernel's identity is derived and checked; the BTF is
 * published to the blob store by its hash. The API registers it when the job completes,
 * so a worker killed at any point leaves nothing half-visible: BullMQ hands the job to another
 * worker, which starts over in a fresh job directory.
 */
import Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import { isLbcError, LbcError, type IngestStage } from '@lbc/contract';
import {
  hostPathScrub,
  borrowOrOwn,
  RedisOwner,
  INGEST_QUEUE,
  MAX_BOOT_IMAGE_BYTES,
  putSharedBtf,
  sha256Of,
  validateBtfHeader,
  type IngestJobData,
  type IngestJobResult,
  type IngestProgress,
  type BlobS3Settings,
  type FarmBlobs,
} from '@lbc/core';
import { kernelIdentity } from './kernel-identity.ts';
import { ensureImage, imageFromEnv } from '../sandbox/compile-image.ts';
import { join } from 'node:path';
import { readObject, removeJobDir } from '../sandbox/job-dir.ts';
import type { SandboxLimits } from '../sandbox/hardening.ts';
import { removeLeftovers } from '../sandbox/leftovers.ts';
import { DEFAULT_INGEST_LIMITS, runIngestContainer } from './ingest-container.ts';
import { keepBootImage } from './boot-image.ts';
import { startQueueWorker } from '../queue-worker.ts';
import { startBlobNode, type BlobNode } from '../farm/blob-node.ts';
import { publicError } from '../public-output.ts';
import { obtainPackage, PackageFetchError, removeStaleFetches } from './package-fetch.ts';

export interface IngestWorkerOptions {
  redisUrl: string;
  /** Where the kernel BTF is published (the compile worker's of this process); absent: one of its own (farm/blob-node.ts). */
  blobs?: FarmBlobs;
  blobS3?: BlobS3Settings;
  /** Packages are read from the blob store when there (the API's own data directory), else fetched by hash (farm blob store) into <dataDir>/ingest/fetched. */
  dataDir: string;
  image?: string;
  docker?: Dockerode;
  /** Ingestions at once in this process (each may use gigabytes). */
  concurrency?: number;
  limits?: Partial<SandboxLimits>;
  timeoutMs?: number;
  /** Largest BTF accepted from the container. */
  maxBtfBytes?: number;
  /** Largest boot image kept from a kernel image package. */
  maxBootImageBytes?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  queueName?: string;
  /** A package transfer (from the node holding it, or the S3 store) that brings no byte for this long is given up. */
  fetchStallMs?: number;
  /** The process's Redis owner; absent ⇒ one of its own for redisUrl, on `log`. */
  redis?: RedisOwner;
  log?: Logger;
}

export interface RunningIngestWorker {
  worker: Worker<IngestJobData, IngestJobResult>;
  close(): Promise<void>;
}

/** Package faults: running again cannot help, so the job fails at once. */
const PERMANENT = /^LBC_ERR_(INGEST_|BTF_)/;

export async function startIngestWorker(opts: IngestWorkerOptions): Promise<RunningIngestWorker> {
  const docker = opts.docker ?? new Dockerode();
  const image = opts.image ?? imageFromEnv();
  await ensureImage(docker, image);
  const limits = { ...DEFAULT_INGEST_LIMITS, ...opts.limits };
  const jobsDir = join(opts.dataDir, 'jobs');
  const scrub = hostPathScrub({ [opts.dataDir]: '<data>' });
  // Containers and job dirs of ingest (or compile) workers that died on this host.
  await removeLeftovers(docker, jobsDir);
  await removeStaleFetches(opts.dataDir);
  const maxBtfBytes = opts.maxBtfBytes ?? 512 * 1024 * 1024;
  const { redis: owner, owned } = borrowOrOwn(opts.redis, () => new RedisOwner({ url: opts.redisUrl, timeoutMs: 5000, log: opts.log, name: 'lbc-ingest-worker' }));
  const redis = owner.openBlocking();
  const ownBlobNode: BlobNode | undefined = opts.blobs ? undefined : await startBlobNode({ redis, dataDir: opts.dataDir, ...(opts.blobS3 ? { s3: opts.blobS3 } : {}) });
  const blobs = opts.blobs ?? ownBlobNode!.blobs;

  const processJob = async (job: Job<IngestJobData, IngestJobResult>): Promise<IngestJobResult> => {
    const data = job.data;
    // Monotonic: a late line from the container's progress meter must not move the bar back.
    let last = -1;
    const progress = (stage: IngestStage, percent: number) => {
      if (percent < last) return;
      last = percent;
      void job.updateProgress({ stage, percent } satisfies IngestProgress).catch(() => {});
    };
    let pkg: Awaited<ReturnType<typeof obtainPackage>> | undefined;
    try {
      pkg = await obtainPackage(data, { dataDir: opts.dataDir, blobs, stallMs: opts.fetchStallMs, onProgress: (f) => progress('fetching', Math.floor(4 * f)) });
      const run = await runIngestContainer({
        docker,
        image,
        jobsDir,
        limits,
        timeoutMs: opts.timeoutMs ?? 30 * 60_000,
        packageFile: pkg.path,
        maxUnpackedBytes: data.maxUnpackedBytes,
        onProgress: progress,
      });
      try {
        const identity = kernelIdentity(run.facts, data.fileName, data.hints);
        const read = await readObject(run.job, 'vmlinux.btf', maxBtfBytes);
        if (!read.ok) throw new LbcError('LBC_ERR_INGEST_NO_BTF', `the ingest tool produced no usable BTF: ${read.detail}`);
        try {
          validateBtfHeader(read.bytes);
        } catch (err) {
          throw new LbcError('LBC_ERR_INGEST_NO_BTF', `the BTF taken from the package is invalid: ${(err as Error).message}`);
        }
        progress('registering', 95);
        const bootImage =
          run.facts['boot-image'] !== undefined
            ? await keepBootImage(run.job, { blobs, maxBytes: opts.maxBootImageBytes ?? MAX_BOOT_IMAGE_BYTES })
            : undefined;
        const btfSha256 = sha256Of(read.bytes);
        await putSharedBtf(blobs, btfSha256, read.bytes);
        return {
          btfSha256,
          btfSize: read.bytes.length,
          ...identity,
          format: run.facts.format ?? 'unknown',
          btfSource: run.facts['btf-source'] ?? 'unknown',
          packageName: run.facts.name ?? '',
          packageVersion: [run.facts.version, run.facts.release].filter(Boolean).join('-'),
          ...(bootImage ? { bootImage } : {}),
          ms: run.ms,
        };
      } finally {
        await removeJobDir(run.job.root);
      }
    } catch (err) {
      // Coded either way, so the API can show the code once the attempts are used up.
      // What BullMQ keeps (failedReason) is answered by GET /v1/kernels/ingest/:id: no host paths, no stack.
      if (err instanceof PackageFetchError && err.retryable) throw publicError(new Error(`${err.code}: ${err.message}`), scrub);
      if (isLbcError(err) && PERMANENT.test(err.code)) throw publicError(new UnrecoverableError(`${err.code}: ${err.message}`), scrub);
      throw publicError(err, scrub);
    } finally {
      await pkg?.release();
    }
  };

  const consumer = await startQueueWorker({
    redis: owner,
    queueName: opts.queueName ?? INGEST_QUEUE,
    process: processJob,
    concurrency: opts.concurrency ?? 1,
    // Ingestions run for minutes: the lock is renewed while they do; a dead worker's job is retaken.
    lockDurationMs: opts.lockDurationMs ?? 60_000,
    stalledIntervalMs: opts.stalledIntervalMs ?? 60_000,
  });
  return {
    worker: consumer.worker,
    async close() {
      if (owned) owner.closing();
      await consumer.close();
      await ownBlobNode?.close();
      owner.release(redis);
      if (owned) owner.close();
    },
  };
}
