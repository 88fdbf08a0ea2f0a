/**
 * The API side of the compile queue. One job id per cache key makes identical requests — from any
 * API process — share one compile. Every call is bounded so a dead Redis is a quick 503, and
 * recent compile failures are remembered by cache key so a broken program is not recompiled.
 */
import type { Job } from 'bullmq';
import { jobIdFor } from '@lbc/contract';
import { COMPILE_QUEUE, type CompileJobData, type CompileJobResult } from './jobs.ts';
import { JobQueue, type AddOptions, type JobLookup } from './job-queue.ts';
import type { JobOutcome } from './job-wait.ts';
import type { RedisOwner } from '../redis/redis-owner.ts';
import { redisKey } from '../redis/redis-keys.ts';
import { stageMark } from '../stage-timing.ts';

export { INPUT_FAULTS, failedJobError } from './job-failure.ts';

export type CompileJob = Job<CompileJobData, CompileJobResult>;
export type FailedCompile = Extract<CompileJobResult, { ok: false }>;

export type WaitOutcome = JobOutcome<CompileJobResult>;
export type CompileJobLookup = JobLookup<CompileJobData, CompileJobResult>;

export interface CompileProducerOptions {
  /** The process's Redis: the queue's connections and the bound on each round trip. */
  redis: RedisOwner;
  /** Beyond this many waiting jobs, new compiles are refused with LBC_ERR_QUEUE_FULL. */
  maxQueuedJobs: number;
  failureTtlSeconds: number;
  queueName?: string;
}

const JOB_OPTIONS: AddOptions['jobOptions'] = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 600 },
  removeOnFail: { age: 3600 },
};

export class CompileProducer extends JobQueue<CompileJobData, CompileJobResult> {
  constructor(private readonly options: CompileProducerOptions) {
    super({ redis: options.redis, name: options.queueName ?? COMPILE_QUEUE, label: 'compile', noun: 'job' });
  }

  async activeCount(): Promise<number> {
    return this.guard(this.queue.getActiveCount(), 'counting active jobs');
  }

  private get addOptions(): AddOptions {
    return { jobOptions: JOB_OPTIONS, maxQueued: { limit: this.options.maxQueuedJobs, what: 'compiles' } };
  }

  /** The cache key's job and the waiting count, read ahead of submit (beside the API's other checks). */
  lookupJob(cacheKey: string): Promise<CompileJobLookup> {
    return this.lookup(jobIdFor(cacheKey), this.addOptions);
  }

  /**
   * Queues the compile, or joins the job already queued for the same cache key (a failed one runs
   * again). `looked`: lookupJob's answer for this key, read a moment before.
   */
  async submit(data: CompileJobData, looked?: CompileJobLookup): Promise<CompileJob> {
    stageMark('api.submit');
    const job = await this.joinOrAdd(jobIdFor(data.cacheKey), data.name, data, this.addOptions, looked);
    stageMark('api.queued', job.id);
    return job;
  }

  /**
   * Waits up to waitMs for the job; { done: false } when it is still running (or `stop` fired:
   * a shutting-down API answers 202 rather than holding requests). Final failure throws LBC_ERR_SANDBOX.
   * `onReturned`: a worker of this process has the result, not yet stored (local-finish.ts).
   */
  async wait(job: CompileJob, waitMs: number, stop?: AbortSignal, onReturned?: (result: CompileJobResult) => void): Promise<WaitOutcome> {
    const outcome = await this.waitFor(job, waitMs, this.owner.timeoutMs, stop, onReturned);
    stageMark('api.job-finished', job.id);
    return outcome;
  }

  async rememberFailure(cacheKey: string, failure: FailedCompile): Promise<void> {
    await this.guard(this.owner.command.set(redisKey.compileFailure(cacheKey), JSON.stringify(failure), 'EX', this.options.failureTtlSeconds), 'remembering failure');
  }

  async recentFailure(cacheKey: string): Promise<FailedCompile | null> {
    const raw = await this.guard(this.owner.command.get(redisKey.compileFailure(cacheKey)), 'reading failures');
    return raw ? (JSON.parse(raw) as FailedCompile) : null;
  }
}
