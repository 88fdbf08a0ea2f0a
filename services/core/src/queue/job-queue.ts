/**
 * The producer side of one BullMQ queue, the same for every feature (compile, verify, ingest): the
 * Queue on the process's command connection and QueueEvents on a blocking one (both reporting to the
 * outage log), every call bounded, joining the job already queued under an id, the queue-full
 * bound, and waiting for a job on behalf of a request. The features configure it with their names,
 * job options and bounds.
 */
import { Queue, QueueEvents, type Job, type JobState, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { LbcError, isLbcError } from '@lbc/contract';
import type { RedisOwner } from '../redis/redis-owner.ts';
import { failedJobError } from './job-failure.ts';
import { waitForJob, type JobOutcome } from './job-wait.ts';

/** How often a request waiting for a job checks it is still in Redis (one round trip each). */
const VANISH_CHECK_MS = 2000;

export interface JobQueueOptions {
  /** The process's Redis: the queue's connections and the bound on each round trip. */
  redis: RedisOwner;
  /** The BullMQ queue name (QUEUE_NAMES in redis-keys.ts). */
  name: string;
  /** The feature, as messages name it: "the verify queue", "queueing verify". */
  label: string;
  /** One job, as messages name it: "reading verify job state". */
  noun: string;
}

/** What joinOrAdd needs besides the job. */
export interface AddOptions {
  jobOptions: JobsOptions;
  /** Beyond this many waiting jobs a new one is LBC_ERR_QUEUE_FULL, saying "`waiting` <what> are waiting". */
  maxQueued?: { limit: number; what: string };
}

/** A job's entry and the queue's waiting count, as joinOrAdd reads them before adding. */
export interface JobLookup<D, R> {
  existing: Job<D, R> | null;
  /** Undefined when the queue has no bound. */
  waiting: number | undefined;
}

export class JobQueue<D, R> {
  readonly queue: Queue<D, R>;
  readonly events: QueueEvents;
  protected readonly owner: RedisOwner;
  private readonly blocking: Redis;

  constructor(private readonly names: JobQueueOptions) {
    this.owner = names.redis;
    this.blocking = this.owner.openBlocking();
    this.queue = new Queue<D, R>(names.name, { connection: this.owner.command });
    this.queue.on('error', this.owner.log.onError);
    this.events = new QueueEvents(names.name, { connection: this.blocking });
    this.events.on('error', this.owner.log.onError);
    // Every waiting request listens for its job's completion.
    this.events.setMaxListeners(0);
    this.queue.setMaxListeners(0);
  }

  /** Resolves when Redis answers and the queue is set up; LBC_ERR_QUEUE_UNAVAILABLE otherwise. */
  async ready(timeoutMs = this.owner.timeoutMs): Promise<void> {
    await this.owner.ready(timeoutMs);
    // BullMQ's first use of a connection checks the server and loads its scripts: do it now,
    // not on the first request (where it would count against the per-call bound).
    await this.owner.guard(this.queue.waitUntilReady(), `initialising the ${this.names.label} queue`, timeoutMs);
    await this.owner.guard(this.events.waitUntilReady(), `subscribing to ${this.names.label} events`, timeoutMs);
  }

  /** One bounded round trip on the process's Redis. */
  guard<T>(work: Promise<T>, what: string): Promise<T> {
    return this.owner.guard(work, what);
  }

  async getJob(jobId: string): Promise<Job<D, R> | null> {
    // BullMQ types a generic queue's jobs by conditional types that TypeScript cannot reduce here; they are Job<D, R>.
    const job = (await this.guard(this.queue.getJob(jobId), `reading ${this.names.noun}`)) as unknown as Job<D, R> | undefined;
    return job ?? null;
  }

  async waitingCount(): Promise<number> {
    return this.guard(this.queue.getWaitingCount(), `counting waiting ${this.names.noun}s`);
  }

  /**
   * What joinOrAdd reads before it adds (the job under `jobId`, the waiting count), for a caller
   * that asks it beside its own checks and hands it to joinOrAdd: one round trip less on its path.
   */
  protected lookup(jobId: string, options: Pick<AddOptions, 'maxQueued'>): Promise<JobLookup<D, R>> {
    // Both at once: a new job (the usual case) needs the count, and it costs no round trip more.
    return Promise.all([this.getJob(jobId), options.maxQueued ? this.waitingCount() : undefined]).then(([existing, waiting]) => ({ existing, waiting }));
  }

  /**
   * Queues the job under `jobId`, or joins the one already there: a failed one (the farm's fault,
   * not the input's) runs again. A new job is refused with LBC_ERR_QUEUE_FULL past the bound.
   * `looked`: this job's lookup, read a moment before (else read now).
   */
  protected async joinOrAdd(jobId: string, name: string, data: D, options: AddOptions, looked?: JobLookup<D, R>): Promise<Job<D, R>> {
    const { existing, waiting: waitingNow } = looked ?? (await this.lookup(jobId, options));
    if (existing) {
      const state = await this.guard(existing.getState(), `reading ${this.names.noun} state`);
      if (state === 'failed') await this.guard(existing.retry('failed'), `retrying ${this.names.noun}`);
      if (state !== 'unknown') return existing;
    }
    if (options.maxQueued) {
      const waiting = waitingNow ?? (await this.waitingCount());
      const { limit, what } = options.maxQueued;
      if (waiting >= limit) throw new LbcError('LBC_ERR_QUEUE_FULL', `${waiting} ${what} are waiting`, { waiting, limit });
    }
    return this.add(jobId, name, data, options.jobOptions);
  }

  /** Queues a new job under `jobId` (bounded, no queue-full check: see joinOrAdd). */
  add(jobId: string, name: string, data: D, jobOptions: JobsOptions): Promise<Job<D, R>> {
    // As in getJob: BullMQ's conditional typing of a generic queue, which is Queue<D, R>.
    const queue = this.queue as unknown as Queue;
    return this.guard(queue.add(name, data, { ...jobOptions, jobId }) as Promise<Job<D, R>>, `queueing ${this.names.label}`);
  }

  /**
   * Waits up to waitMs for the job (`graceMs` more bounds Redis waits); { done: false } when it is
   * still running or `stop` fired (a shutting-down API answers 202 rather than hold requests).
   */
  protected async waitFor(job: Job<D, R>, waitMs: number, graceMs: number, stop?: AbortSignal, onReturned?: (result: R) => void): Promise<JobOutcome<R>> {
    const started = Date.now();
    const vanish = { everyMs: VANISH_CHECK_MS, gone: async (id: string) => !(await this.guard(this.queue.getJob(id), `reading ${this.names.noun}`)) };
    const local = { redisUrl: this.owner.url, ...(onReturned ? { onReturned } : {}) };
    try {
      return await waitForJob<R>(job, this.events, waitMs, graceMs, stop, (id) => this.peek(id), vanish, local);
    } catch (err) {
      if (!isLbcError(err, 'LBC_ERR_JOB_NOT_FOUND') || stop?.aborted) throw err;
    }
    // The job this request queued (or joined) is gone before it ended: Redis restarted empty, or an
    // operator removed it. The request still stands: queued again, once, and waited for the rest of its time.
    const again = await this.add(job.id!, job.name, job.data, job.opts);
    return waitForJob<R>(again, this.events, Math.max(0, waitMs - (Date.now() - started)), graceMs, stop, (id) => this.peek(id), undefined, local);
  }

  /**
   * A job and its state, read so that they agree: a job that ends between reading it and reading its
   * state is read again, so that its result or its failure reason is there. Undefined: no such job.
   */
  async jobWithState(jobId: string): Promise<{ job: Job<D, R>; state: JobState | 'unknown' } | undefined> {
    const job = await this.getJob(jobId);
    if (!job) return undefined;
    const state = await this.guard(job.getState(), `reading ${this.names.noun} state`);
    const ended = (state === 'completed' && job.returnvalue == null) || (state === 'failed' && !job.failedReason);
    return { job: (ended && (await this.getJob(jobId))) || job, state };
  }

  /** Current outcome of a job without waiting; a final failure throws its error (failedJobError). */
  async peek(jobId: string): Promise<JobOutcome<R>> {
    const read = await this.jobWithState(jobId);
    if (!read) throw new LbcError('LBC_ERR_JOB_NOT_FOUND', jobId);
    const { job, state } = read;
    if (state === 'completed') return { done: true, result: job.returnvalue };
    if (state === 'failed') throw failedJobError(job.failedReason, { jobId, attempts: job.attemptsMade });
    return { done: false };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.owner.release(this.blocking);
  }
}
