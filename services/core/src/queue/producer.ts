/**
 * The API side of the compile queue. One job id per cache key makes identical requests — from any
 * API process — share one compile. Every call is bounded so a dead Redis is a quick 503, and
 * recent compile failures are remembered by cache key so a broken program is not recompiled.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { waitForJob, type JobOutcome } from './job-wait.ts';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LbcError, jobIdFor, type ErrorCode } from '@lbc/contract';
import { COMPILE_QUEUE, REDIS_PREFIX, type CompileJobData, type CompileJobResult } from './jobs.ts';
import { createBlockingRedis, createCommandRedis, waitRedisReady, withRedisTimeout } from '../redis/redis.ts';
import { fallbackLogger, RedisConnectionLog } from '../redis/redis-log.ts';

export type CompileJob = Job<CompileJobData, CompileJobResult>;
export type FailedCompile = Extract<CompileJobResult, { ok: false }>;

export type WaitOutcome = JobOutcome<CompileJobResult>;

export interface CompileProducerOptions {
  redisUrl: string;
  /** Bound on each Redis round trip. */
  timeoutMs: number;
  /** Beyond this many waiting jobs, new compiles are refused with LBC_ERR_QUEUE_FULL. */
  maxQueuedJobs: number;
  failureTtlSeconds: number;
  queueName?: string;
  /** Where a Redis outage is reported; one shared by the process's components logs it once. */
  redisLog?: RedisConnectionLog;
  /** Used for a RedisConnectionLog of its own when none is shared. */
  log?: Logger;
}

const failureKey = (cacheKey: string) => `${REDIS_PREFIX}:failure:${cacheKey}`;

/**
 * Failures that are the job's input, not the farm's: a worker gives up on them at once instead of
 * burning its attempts, and a failed job reports them with their own code. A user's mistake (a bad
 * name, flag or source) is a result, never a failure; the last five are listed should one ever throw.
 */
export const INPUT_FAULTS: ReadonlySet<string> = new Set<ErrorCode>([
  'LBC_ERR_BTF_INVALID',
  'LBC_ERR_BTF_HASH_MISMATCH',
  'LBC_ERR_KERNEL_SET_FAILED',
  'LBC_ERR_BAD_REQUEST',
  'LBC_ERR_CFLAG_FORBIDDEN',
  'LBC_ERR_INCLUDE_FORBIDDEN',
  'LBC_ERR_INCLUDE_NAME_INVALID',
  'LBC_ERR_SOURCE_FORBIDDEN',
]);

/** A failed job's error: the worker's own code when it named an input fault ("CODE: message"), else a sandbox fault. */
export function failedJobError(reason: string | undefined, details: Record<string, unknown>): LbcError {
  const m = /^(LBC_ERR_[A-Z_]+): ([\s\S]*)$/.exec(reason ?? '');
  if (m && INPUT_FAULTS.has(m[1]!)) {
    const err = new LbcError(m[1] as ErrorCode, undefined, details);
    // The reason carries the worker's whole message (catalogue text included).
    err.message = m[2]!;
    return err;
  }
  return new LbcError('LBC_ERR_SANDBOX', reason || 'the compile job failed', details);
}

export class CompileProducer {
  readonly redis: Redis;
  readonly queue: Queue<CompileJobData, CompileJobResult>;
  readonly events: QueueEvents;
  private readonly blocking: Redis;
  private readonly connLog: RedisConnectionLog;

  constructor(private readonly options: CompileProducerOptions) {
    this.connLog = options.redisLog ?? new RedisConnectionLog(options.log ?? fallbackLogger('lbc-api'), options.redisUrl);
    this.redis = createCommandRedis(options.redisUrl, options.timeoutMs, this.connLog);
    this.blocking = createBlockingRedis(options.redisUrl, this.connLog);
    const name = options.queueName ?? COMPILE_QUEUE;
    this.queue = new Queue(name, { connection: this.redis });
    this.queue.on('error', this.connLog.onError);
    this.events = new QueueEvents(name, { connection: this.blocking });
    this.events.on('error', this.connLog.onError);
    // Every waiting request listens for its job's completion.
    this.events.setMaxListeners(0);
    this.queue.setMaxListeners(0);
  }

  /** Resolves when Redis answers; LBC_ERR_QUEUE_UNAVAILABLE otherwise. */
  async ready(timeoutMs = this.options.timeoutMs): Promise<void> {
    await waitRedisReady(this.redis, timeoutMs);
    // BullMQ's first use of a connection checks the server and loads its scripts: do it now,
    // not on the first request (where it would count against the per-call bound).
    await withRedisTimeout(this.queue.waitUntilReady(), timeoutMs, 'initialising the queue');
    await withRedisTimeout(this.events.waitUntilReady(), timeoutMs, 'subscribing to queue events');
  }

  /** The Redis it was made for (other queues of the same farm open theirs there). */
  get redisUrl(): string {
    return this.options.redisUrl;
  }

  /** Its connection log, shared with other queues of the process. */
  get connectionLog(): RedisConnectionLog {
    return this.connLog;
  }

  guard<T>(work: Promise<T>, what: string): Promise<T> {
    return withRedisTimeout(work, this.options.timeoutMs, what);
  }

  async ping(): Promise<void> {
    await this.guard(this.redis.ping(), 'ping');
  }

  async waitingCount(): Promise<number> {
    return this.guard(this.queue.getWaitingCount(), 'counting waiting jobs');
  }

  async activeCount(): Promise<number> {
    return this.guard(this.queue.getActiveCount(), 'counting active jobs');
  }

  /** Queues the compile, or joins the job already queued for the same cache key. */
  async submit(data: CompileJobData): Promise<CompileJob> {
    const jobId = jobIdFor(data.cacheKey);
    const existing = await this.getJob(jobId);
    if (existing) {
      const state = await this.guard(existing.getState(), 'reading job state');
      // An infrastructure failure is not the program's fault: run it again.
      if (state === 'failed') await this.guard(existing.retry('failed'), 'retrying job');
      if (state !== 'unknown') return existing;
    }
    const waiting = await this.waitingCount();
    if (waiting >= this.options.maxQueuedJobs) {
      throw new LbcError('LBC_ERR_QUEUE_FULL', `${waiting} compiles are waiting`, { waiting, limit: this.options.maxQueuedJobs });
    }
    return this.guard(
      this.queue.add(data.name, data, {
        jobId,
        attempts: 3,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: { age: 600 },
        removeOnFail: { age: 3600 },
      }),
      'queueing compile',
    );
  }

  /**
   * Waits up to waitMs for the job; { done: false } when it is still running (or `stop` fired:
   * a shutting-down API answers 202 rather than holding requests). Final failure throws LBC_ERR_SANDBOX.
   */
  async wait(job: CompileJob, waitMs: number, stop?: AbortSignal): Promise<WaitOutcome> {
    return waitForJob<CompileJobResult>(job, this.events, waitMs, this.options.timeoutMs, stop, (id) => this.peek(id));
  }

  /** Current outcome of a job without waiting. */
  async peek(jobId: string): Promise<WaitOutcome> {
    const job = await this.getJob(jobId);
    if (!job) throw new LbcError('LBC_ERR_JOB_NOT_FOUND', jobId);
    const state = await this.guard(job.getState(), 'reading job state');
    if (state === 'completed') return { done: true, result: job.returnvalue };
    if (state === 'failed') throw failedJobError(job.failedReason, { jobId, attempts: job.attemptsMade });
    return { done: false };
  }

  async getJob(jobId: string): Promise<CompileJob | null> {
    return (await this.guard(this.queue.getJob(jobId), 'reading job')) ?? null;
  }

  async rememberFailure(cacheKey: string, failure: FailedCompile): Promise<void> {
    await this.guard(this.redis.set(failureKey(cacheKey), JSON.stringify(failure), 'EX', this.options.failureTtlSeconds), 'remembering failure');
  }

  async recentFailure(cacheKey: string): Promise<FailedCompile | null> {
    const raw = await this.guard(this.redis.get(failureKey(cacheKey)), 'reading failures');
    return raw ? (JSON.parse(raw) as FailedCompile) : null;
  }

  /** Compiles counted by workers (Redis counter lbc:stats:compiles). */
  async compileCount(): Promise<number> {
    return Number((await this.guard(this.redis.get(`${REDIS_PREFIX}:stats:compiles`), 'reading stats')) ?? 0);
  }

  async close(): Promise<void> {
    if (!this.options.redisLog) this.connLog.close();
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.redis.disconnect();
    this.blocking.disconnect();
  }
}
