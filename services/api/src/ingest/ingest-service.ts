/**
 * The API side of ingestion: receives a package (upload or server-side path) into the farm blob
 * store (this node's disk, streamed, under its sha256; announced there, or uploaded to the S3
 * store), queues one job per package sha256 — the job carries the hash, name and size, and the
 * worker gets the bytes by hash — and registers the kernel when the job completes: the only place a
 * kernel set from a package becomes visible (its boot image, published by the worker, fetched by
 * hash into this node's store). Every API process listens for completions; all of
 * them may race to register, which is idempotent. A completion nobody saw (API down) is registered
 * at the next start or on the next status read.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { basename, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { ERRORS, LbcError, type BootImageRef, type ErrorCode, type IngestStatus, type JobState } from '@lbc/contract';
import {
  type Db,
  type FarmBlobs,
  type KernelRegistry,
  type RedisOwner,
  JobQueue,
  getSharedBtf,
  withRedisTimeout,
  INGEST_QUEUE,
  ingestJobId,
  type IngestHints,
  type IngestJobData,
  type IngestJobResult,
  type IngestProgress,
  ensureFarmSecret,
  hostPathScrub,
} from '@lbc/core';
import { IngestRecords } from './ingest-records.ts';
import { forgetPackage, ledgerPackages, spoolPackage, sweepSpool } from './spool.ts';
import type { IngestSettings } from './ingest-settings.ts';

export type IngestJob = Job<IngestJobData, IngestJobResult>;

export interface IngestServiceOptions {
  dataDir: string;
  db: Db;
  registry: KernelRegistry;
  /** The process's Redis: the queue's connections and the bound on each round trip. */
  redis: RedisOwner;
  settings: IngestSettings;
  queueName?: string;
}

export type IngestSource = { kind: 'upload'; body: Readable; fileName: string } | { kind: 'path'; path: string };

/** Rebuilds the LbcError a worker failed a job with ("LBC_ERR_X: message"). */
export function errorFromFailedReason(reason: string | undefined): LbcError {
  const m = /^(LBC_ERR_[A-Z_]+): ([\s\S]*)$/.exec(reason ?? '');
  if (m && m[1]! in ERRORS) {
    const err = new LbcError(m[1] as ErrorCode);
    err.message = m[2]!;
    return err;
  }
  return new LbcError('LBC_ERR_SANDBOX', reason || 'the ingestion job failed');
}

export class IngestService {
  readonly queue: Queue<IngestJobData, IngestJobResult>;
  readonly events: QueueEvents;
  readonly records: IngestRecords;
  private readonly owner: RedisOwner;
  private readonly redis: Redis;
  private readonly jobs: JobQueue<IngestJobData, IngestJobResult>;
  private readonly finalizing = new Map<string, Promise<IngestStatus>>();

  constructor(private readonly options: IngestServiceOptions) {
    this.owner = options.redis;
    this.redis = this.owner.command;
    this.jobs = new JobQueue({ redis: this.owner, name: options.queueName ?? INGEST_QUEUE, label: 'ingest', noun: 'ingestion' });
    this.queue = this.jobs.queue;
    this.events = this.jobs.events;
    this.records = new IngestRecords(options.db);
    this.events.on('completed', ({ jobId }) => void this.status(jobId).catch(() => {}));
    this.events.on('failed', ({ jobId }) => void this.status(jobId).catch(() => {}));
  }

  get settings(): IngestSettings {
    return this.options.settings;
  }

  private get blobs(): FarmBlobs {
    return this.options.registry.farmBlobs;
  }

  /**
   * Waits for Redis, registers what completed while no API process was listening, removes uploads
   * and packages that API processes which died left behind, and makes the packages still waiting
   * for their ingestion findable again (their location record may have lapsed with this node down).
   */
  async start(timeoutMs = this.owner.timeoutMs, sweepMinAgeMs = 3600_000): Promise<void> {
    await this.jobs.ready(timeoutMs);
    // Made here if no node has yet: workers prove themselves with it when fetching packages by hash.
    await this.guard(ensureFarmSecret(this.redis), 'making the farm secret');
    for (const job of await this.guard(this.queue.getCompleted(), 'listing ingestions')) {
      if (job?.id && !this.records.get(job.data.packageSha256)) await this.status(job.id).catch(() => {});
    }
    await sweepSpool(this.options.dataDir, sweepMinAgeMs);
    for (const { sha256, since } of await ledgerPackages(this.options.dataDir)) {
      const job = /^[0-9a-f]{64}$/.test(sha256) ? await this.getJob(ingestJobId(sha256)) : null;
      if (job) {
        // Unless it is gone from this node's disk: then the job fails and says so.
        if (this.blobs.disk.has(sha256)) await this.blobs.publishFile(sha256).catch(() => {});
      } else if (Date.now() - since > sweepMinAgeMs) {
        await this.removePackage(sha256);
      }
    }
  }

  /**
   * A package is kept only while its ingestion runs: once the kernel is registered (or the
   * ingestion failed), the farm keeps the kernel's BTF and boot image, and a second upload of the
   * same bytes is answered from the ingest records without them. Kept, a package would hold
   * hundreds of MB per kernel on the node's disk (or in the bucket) for nothing. Raw BTF is its
   * own kernel's BTF: that blob stays.
   */
  private async removePackage(sha256: string): Promise<void> {
    if (/^[0-9a-f]{64}$/.test(sha256) && !this.options.registry.get(sha256)) {
      await this.blobs.drop(sha256, { everywhere: true }).catch(() => {});
    }
    await forgetPackage(this.options.dataDir, sha256);
  }

  /** Makes a received package findable by the workers: this node named as its holder, or the file uploaded to the S3 store. */
  private async publishPackage(sha256: string): Promise<void> {
    if (this.blobs.mode === 'nodes') return this.guard(this.blobs.publishFile(sha256), 'announcing the package');
    try {
      await this.blobs.publishFile(sha256);
    } catch (err) {
      await this.removePackage(sha256);
      throw new LbcError('LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', `the package could not be stored in the farm's S3 store: ${(err as Error).message}`);
    }
  }

  private guard<T>(work: Promise<T>, what: string): Promise<T> {
    return this.owner.guard(work, what);
  }

  /** A server-side path must resolve (symlinks followed) to a regular file under LBC_INGEST_PATH_ROOT. */
  private async openServerPath(path: string): Promise<{ body: Readable; fileName: string }> {
    const root = this.options.settings.pathRoot;
    if (!root) throw new LbcError('LBC_ERR_INGEST_FORBIDDEN', 'server-side paths are disabled (set LBC_INGEST_PATH_ROOT); upload the file instead');
    let real: string;
    try {
      real = await fs.realpath(resolve(root, path));
    } catch {
      throw new LbcError('LBC_ERR_BAD_REQUEST', `no such file under the ingest path root: ${JSON.stringify(path)}`, { field: 'path' });
    }
    const realRoot = await fs.realpath(root);
    if (!real.startsWith(realRoot + sep)) throw new LbcError('LBC_ERR_INGEST_FORBIDDEN', `${JSON.stringify(path)} is outside LBC_INGEST_PATH_ROOT`);
    if (!(await fs.stat(real)).isFile()) throw new LbcError('LBC_ERR_BAD_REQUEST', `${JSON.stringify(path)} is not a regular file`, { field: 'path' });
    return { body: createReadStream(real), fileName: basename(real) };
  }

  /** Receives the package and queues its ingestion (or finds it already done or running). */
  async submit(source: IngestSource, hints: IngestHints, waitMs = 0): Promise<IngestStatus> {
    const { body, fileName } = source.kind === 'path' ? await this.openServerPath(source.path) : source;
    const pkg = await spoolPackage(this.options.dataDir, this.blobs.disk, body, this.options.settings.maxBytes);
    const id = ingestJobId(pkg.sha256);
    const done = this.records.get(pkg.sha256);
    if (done) {
      await this.removePackage(pkg.sha256);
      return { ...this.doneStatus(id, pkg.sha256, done.btfSha256, done.btfSource), duplicate: true };
    }
    await this.publishPackage(pkg.sha256);
    let job = await this.getJob(id);
    const state = job ? await this.guard(job.getState(), 'reading job state') : 'unknown';
    // A failed attempt (bad package, or the sandbox) runs again from the start with the fresh upload.
    if (job && state === 'failed') {
      await this.guard(job.remove(), 'removing the failed ingestion');
      job = null;
    }
    if (!job || state === 'unknown') {
      job = await this.jobs.add(
        id,
        fileName,
        { packageSha256: pkg.sha256, fileName, size: pkg.size, hints, maxUnpackedBytes: this.options.settings.maxUnpackedBytes },
        {
          attempts: 2,
          backoff: { type: 'fixed', delay: 1000 },
          removeOnComplete: { age: 7 * 24 * 3600 },
          removeOnFail: { age: 24 * 3600 },
        },
      );
    }
    if (waitMs > 0) {
      try {
        await withRedisTimeout(job.waitUntilFinished(this.events, waitMs), waitMs + this.owner.timeoutMs, 'waiting for the ingestion');
      } catch {
        // Failed or still running: the status says which.
      }
    }
    return this.status(id);
  }

  private doneStatus(id: string, packageSha256: string, btfSha256: string, btfSource: string): IngestStatus {
    const kernel = this.options.registry.get(btfSha256) ?? undefined;
    return { id, packageSha256, state: 'completed', progress: { stage: 'done', percent: 100 }, kernel, btfSource };
  }

  private async getJob(id: string): Promise<IngestJob | null> {
    return this.jobs.getJob(id);
  }

  /** State of an ingestion; a completed one is registered here if it is not yet. */
  async status(id: string): Promise<IngestStatus> {
    const m = /^ingest-([0-9a-f]{64})$/.exec(id);
    if (!m) throw new LbcError('LBC_ERR_JOB_NOT_FOUND', id);
    const packageSha256 = m[1]!;
    const done = this.records.get(packageSha256);
    if (done) return this.doneStatus(id, packageSha256, done.btfSha256, done.btfSource);
    const read = await this.jobs.jobWithState(id);
    if (!read) throw new LbcError('LBC_ERR_JOB_NOT_FOUND', id);
    const { job } = read;
    const state = read.state as JobState;
    const progress = (typeof job.progress === 'object' && job.progress ? job.progress : { stage: 'queued', percent: 0 }) as IngestProgress;
    if (state === 'completed') return this.finalize(job);
    if (state === 'failed') {
      await this.removePackage(packageSha256);
      // Written by a worker, maybe quoting a path of its host.
      const reason = hostPathScrub({ [this.options.dataDir]: '<data>' })(job.failedReason ?? '');
      return { id, packageSha256, state, progress, error: errorFromFailedReason(reason).toBody().error };
    }
    return { id, packageSha256, state, progress };
  }

  private finalize(job: IngestJob): Promise<IngestStatus> {
    const id = job.id!;
    let running = this.finalizing.get(id);
    if (!running) {
      running = this.register(job).finally(() => this.finalizing.delete(id));
      this.finalizing.set(id, running);
    }
    return running;
  }

  private async register(job: IngestJob): Promise<IngestStatus> {
    const { packageSha256, fileName, size } = job.data;
    const result = job.returnvalue;
    const btf = await this.guard(getSharedBtf(this.options.registry.farmBlobs, result.btfSha256), 'reading ingested BTF');
    if (!btf) {
      // The worker that holds the BTF is gone (or lost it) before we fetched it: ingest again (the package is still in the blob store).
      await this.guard(job.remove(), 'removing the ingestion');
      throw new LbcError('LBC_ERR_QUEUE_UNAVAILABLE', 'the ingested BTF vanished from the blob store before registration; submit the package again');
    }
    const { registry } = this.options;
    await registry.register({ btf, release: result.release, arch: result.arch, distro: result.distro, source: 'package', expectedSha256: result.btfSha256 });
    if (result.bootImage) await this.takeBootImage(job, result.bootImage);
    const record = this.records.add(packageSha256, fileName, size, result);
    await this.removePackage(packageSha256);
    return this.doneStatus(job.id!, packageSha256, record.btfSha256, record.btfSource);
  }

  /**
   * The worker published the boot image to the farm blob store before completing the job (its
   * disk, named as holder, or the S3 store); this node fetches its own copy by hash, verified, and
   * keeps it findable while the kernel set is registered (KernelRegistry.fetchBootImage). An image
   * that cannot be had leaves the kernel registered, not bootable on this node.
   */
  private async takeBootImage(job: IngestJob, image: BootImageRef): Promise<void> {
    const { registry } = this.options;
    try {
      await registry.fetchBootImage(image);
    } catch {
      // Not bootable here; the kernel's BTF is what registration is for.
    }
    if (registry.hasBlob(image.sha256)) registry.attachBootImage(job.returnvalue.btfSha256, image);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.finalizing.values()]);
    await this.jobs.close();
  }
}
