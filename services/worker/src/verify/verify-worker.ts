/**
 * The verify worker: a BullMQ consumer of VERIFY_QUEUE. Per kernel of a job — several at once, up
 * to the worker's concurrency — the object the farm compiles for it, the kernel's boot image, then
 * the lab's guest: the verdict says what loaded and attached. A compile error or a guest that gave
 * no verdict (a boot fault, the wall limit) is that kernel's verdict (status error), never a retry;
 * only the farm's own faults (Redis, a lost lock) throw.
 */
import type { Logger } from 'pino';
import type { Job, Worker } from 'bullmq';
import { LbcError, type KernelVerdict, type VerifyProgress } from '@lbc/contract';
import {
  CompileProducer,
  RedisOwner,
  type BlobS3Settings,
  type FarmBlobs,
  VERIFY_QUEUE,
  borrowOrOwn,
  hostPathScrub,
  scrubStrings,
  type VerifyJobData,
  type VerifyJobResult,
  type VerifyKernelTask,
  type WorkerVerdict,
} from '@lbc/core';
import { startQueueWorker } from '../queue-worker.ts';
import { publicError } from '../public-output.ts';
import { BootImageFiles } from './boot-image-file.ts';
import type { GuestLab } from './guest-runner.ts';
import { mapBounded } from '@lbc/core/lab';
import { objectForKernel } from './object-for-kernel.ts';
import { startBlobNode, type BlobNode } from '../farm/blob-node.ts';

export interface VerifyWorkerOptions {
  redisUrl: string;
  /** Where this worker's own blob store is (<dataDir>/blobs; the API node's on its host): boot images are fetched into it by hash. */
  dataDir: string;
  lab: GuestLab;
  /** Kernels booted at once (the worker's concurrency). */
  concurrency?: number;
  /** Wall limit of one guest, boot to verdict. */
  guestTimeoutMs?: number;
  /** Bound on one kernel's compile through the compile queue. */
  compileTimeoutMs?: number;
  queueName?: string;
  compileQueueName?: string;
  lockDurationMs?: number;
  log?: Logger;
  /** The process's Redis owner; absent ⇒ one of its own for redisUrl, on `log`. */
  redis?: RedisOwner;
  /** Where compiled objects are read by hash (the compile worker's of this process); absent: one of its own. */
  blobs?: FarmBlobs;
  blobS3?: BlobS3Settings;
}

export interface RunningVerifyWorker {
  worker: Worker<VerifyJobData, VerifyJobResult>;
  close(): Promise<void>;
}

const DEFAULT_GUEST_TIMEOUT_MS = 120_000;

export async function startVerifyWorker(opts: VerifyWorkerOptions): Promise<RunningVerifyWorker> {
  const { redis: owner, owned } = borrowOrOwn(opts.redis, () => new RedisOwner({ url: opts.redisUrl, timeoutMs: 5000, log: opts.log, name: 'lbc-verify' }));
  const redis = owner.command;
  const compiles = new CompileProducer({ redis: owner, maxQueuedJobs: Number.MAX_SAFE_INTEGER, failureTtlSeconds: 600, ...(opts.compileQueueName ? { queueName: opts.compileQueueName } : {}) });
  const ownBlobNode: BlobNode | undefined = opts.blobs ? undefined : await startBlobNode({ redis, dataDir: opts.dataDir, ...(opts.blobS3 ? { s3: opts.blobS3 } : {}) });
  const blobs = opts.blobs ?? ownBlobNode!.blobs;
  const bootImages = new BootImageFiles(blobs);
  const concurrency = Math.max(1, opts.concurrency ?? 2);
  const scrub = hostPathScrub({ [opts.dataDir]: '<data>' });

  const verifyKernel = async (job: Job<VerifyJobData, VerifyJobResult>, task: VerifyKernelTask, onStage: (stage: 'booting') => void): Promise<WorkerVerdict> => {
    const data = job.data;
    const base = { kernel: task.kernel, cached: false, programs: [], maps: [] };
    const object = await objectForKernel({ compiles, blobs, compileTimeoutMs: opts.compileTimeoutMs ?? 180_000 }, data, task);
    if (!object.ok) return { ...base, status: 'error', error: object.error };
    const withObject = { ...base, objectSha256: object.sha256, ...(object.compileJobId ? { compileJobId: object.compileJobId } : {}) };
    onStage('booting');
    try {
      const bootImage = await bootImages.path(task.bootImage);
      const verdict = await opts.lab.run({
        arch: task.kernel.arch,
        bootImage,
        object: object.bytes,
        ...(data.setup ? { setup: data.setup } : {}),
        ...(data.workload ? { workload: data.workload } : {}),
        timeoutMs: opts.guestTimeoutMs ?? DEFAULT_GUEST_TIMEOUT_MS,
      });
      return { ...withObject, ...verdict, kernel: task.kernel, cached: false, objectSha256: object.sha256 };
    } catch (err) {
      // The guest's own faults (no boot, a panic, the wall limit) are this kernel's answer, not a retry.
      if (err instanceof LbcError) return { ...withObject, status: 'error', error: err.toBody().error };
      throw err;
    }
  };

  const processJob = async (job: Job<VerifyJobData, VerifyJobResult>): Promise<VerifyJobResult> => {
    const data = job.data;
    const log = opts.log?.child({ reqId: data.requestId, jobId: job.id, tenant: data.tenant, program: data.name });
    const began = Date.now();
    const total = data.order.length;
    let done = data.known.length;
    let compiling = data.kernels.length;
    const report = () => {
      const progress: VerifyProgress = { stage: compiling > 0 ? 'compiling' : 'booting', done, total, percent: Math.round((100 * done) / Math.max(1, total)) };
      void job.updateProgress(progress).catch(() => {});
    };
    report();
    try {
      const verdicts = await mapBounded(data.kernels, concurrency, async (task) => {
        let counted = false;
        const compiled = () => {
          if (counted) return;
          counted = true;
          compiling--;
          report();
        };
        try {
          return await verifyKernel(job, task, compiled);
        } finally {
          compiled();
          done++;
          report();
        }
      });
      log?.info({ ms: Date.now() - began, kernels: verdicts.map((v) => `${v.kernel.release}:${v.status}`) }, 'verified');
      return { labVersion: opts.lab.version, verdicts: scrubStrings(verdicts, scrub) as KernelVerdict[] };
    } catch (err) {
      log?.warn({ ms: Date.now() - began, err: (err as Error).message }, 'verify job failed');
      throw publicError(err, scrub);
    }
  };

  await compiles.ready(30_000);
  // One job at a time; its kernels run concurrently, so a job's guests share the worker's CPUs.
  const consumer = await startQueueWorker({ redis: owner, queueName: opts.queueName ?? VERIFY_QUEUE, process: processJob, concurrency: 1, lockDurationMs: opts.lockDurationMs ?? 60_000 });
  return {
    worker: consumer.worker,
    async close() {
      if (owned) owner.closing();
      await consumer.close();
      await compiles.close();
      await ownBlobNode?.close();
      if (owned) owner.close();
    },
  };
}
