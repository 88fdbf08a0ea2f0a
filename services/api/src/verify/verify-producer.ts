/**
 * The API side of the verify queue: one job id per request (kernels' compiles, setup, workload, lab
 * version), so identical requests from any API node share one run; bounded Redis calls as in the
 * compile producer, whose command connection it borrows for the queue.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { waitForJob, type JobOutcome, type CompileProducer, VERIFY_QUEUE, type VerifyJobData, type VerifyJobResult, failedJobError, createBlockingRedis, RedisConnectionLog, fallbackLogger } from '@lbc/core';
import { LbcError } from '@lbc/contract';
import type { Redis } from 'ioredis';

export type VerifyJob = Job<VerifyJobData, VerifyJobResult>;
export type VerifyWaitOutcome = JobOutcome<VerifyJobResult>;

export interface VerifyProducerOptions {
  redisUrl: string;
  /** The compile producer: its Redis connection and per-call bound. */
  compile: CompileProducer;
  /** Beyond this many waiting verify jobs, new ones are refused with LBC_ERR_QUEUE_FULL. */
  maxQueuedJobs: number;
  queueName?: string;
  redisLog?: RedisConnectionLog;
}

export class VerifyProducer {
  readonly queue: Queue<VerifyJobData, VerifyJobResult>;
  private readonly events: QueueEvents;
  private readonly blocking: Redis;
  private readonly connLog: RedisConnectionLog;
  private readonly compile: CompileProducer;

  constructor(private readonly options: VerifyProducerOptions) {
    this.compile = options.compile;
    this.connLog = options.redisLog ?? new RedisConnectionLog(fallbackLogger('lbc-api'), options.redisUrl);
    this.blocking = createBlockingRedis(options.redisUrl, this.connLog);
    const name = options.queueName ?? VERIFY_QUEUE;
    this.queue = new Queue(name, { connection: this.compile.redis });
    this.queue.on('error', this.connLog.onError);
    this.events = new QueueEvents(name, { connection: this.blocking });
    this.events.on('error', this.connLog.onError);
    this.events.setMaxListeners(0);
    this.queue.setMaxListeners(0);
  }

  async ready(): Promise<void> {
    await this.guard(this.queue.waitUntilReady(), 'initialising the verify queue');
    await this.guard(this.events.waitUntilReady(), 'subscribing to verify events');
  }

  /** The command connection (the compile producer's): job readers, the worker registry. */
  get redis(): Redis {
    return this.compile.redis;
  }

  guard<T>(work: Promise<T>, what: string): Promise<T> {
    return this.compile.guard(work, what);
  }

  /** Queues the run, or joins the job already there for the same request. */
  async submit(jobId: string, data: VerifyJobData): Promise<VerifyJob> {
    const existing = await this.getJob(jobId);
    if (existing) {
      const state = await this.guard(existing.getState(), 'reading verify job state');
      if (state === 'failed') await this.guard(existing.retry('failed'), 'retrying verify job');
      if (state !== 'unknown') return existing;
    }
    const waiting = await this.guard(this.queue.getWaitingCount(), 'counting waiting verify jobs');
    if (waiting >= this.options.maxQueuedJobs) {
      throw new LbcError('LBC_ERR_QUEUE_FULL', `${waiting} verify runs are waiting`, { waiting, limit: this.options.maxQueuedJobs });
    }
    return this.guard(
      this.queue.add(data.name, data, {
        jobId,
        // A guest's faults are verdicts (status error); a throw is the farm's (Redis, Docker): retried once.
        attempts: 2,
        backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: { age: 600 },
        removeOnFail: { age: 3600 },
      }),
      'queueing verify',
    );
  }

  /** Waits up to waitMs (or until `stop`); { done: false } when the run goes on. */
  async wait(job: VerifyJob, waitMs: number, stop?: AbortSignal): Promise<VerifyWaitOutcome> {
    return waitForJob<VerifyJobResult>(job, this.events, waitMs, 5000, stop, (id) => this.peek(id));
  }

  async peek(jobId: string): Promise<VerifyWaitOutcome> {
    const job = await this.getJob(jobId);
    if (!job) throw new LbcError('LBC_ERR_JOB_NOT_FOUND', jobId);
    const state = await this.guard(job.getState(), 'reading verify job state');
    if (state === 'completed') return { done: true, result: job.returnvalue };
    if (state === 'failed') throw failedJobError(job.failedReason, { jobId, attempts: job.attemptsMade });
    return { done: false };
  }

  async getJob(jobId: string): Promise<VerifyJob | null> {
    return (await this.guard(this.queue.getJob(jobId), 'reading verify job')) ?? null;
  }

  async close(): Promise<void> {
    if (!this.options.redisLog) this.connLog.close();
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.blocking.disconnect();
  }
}
