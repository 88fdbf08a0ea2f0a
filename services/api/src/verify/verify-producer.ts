/**
 * The API side of the verify queue: one job id per request (kernels' compiles, setup, workload, lab
 * version), so identical requests from any API node share one run; bounded Redis calls as in the
 * compile producer.
 */
import type { Job } from 'bullmq';
import { JobQueue, type AddOptions, type JobOutcome, VERIFY_QUEUE, type VerifyJobData, type VerifyJobResult, type RedisOwner } from '@lbc/core';

export type VerifyJob = Job<VerifyJobData, VerifyJobResult>;
export type VerifyWaitOutcome = JobOutcome<VerifyJobResult>;

export interface VerifyProducerOptions {
  /** The process's Redis: the queue's connections and the bound on each round trip. */
  redis: RedisOwner;
  /** Beyond this many waiting verify jobs, new ones are refused with LBC_ERR_QUEUE_FULL. */
  maxQueuedJobs: number;
  queueName?: string;
}

const JOB_OPTIONS: AddOptions['jobOptions'] = {
  // A guest's faults are verdicts (status error); a throw is the farm's (Redis, Docker): retried once.
  attempts: 2,
  backoff: { type: 'fixed', delay: 1000 },
  removeOnComplete: { age: 600 },
  removeOnFail: { age: 3600 },
};

/** The outer bound past waitMs on a verify wait's Redis reads. */
const WAIT_GRACE_MS = 5000;

export class VerifyProducer extends JobQueue<VerifyJobData, VerifyJobResult> {
  constructor(private readonly options: VerifyProducerOptions) {
    super({ redis: options.redis, name: options.queueName ?? VERIFY_QUEUE, label: 'verify', noun: 'verify job' });
  }

  /** Queues the run, or joins the job already there for the same request. */
  async submit(jobId: string, data: VerifyJobData): Promise<VerifyJob> {
    return this.joinOrAdd(jobId, data.name, data, { jobOptions: JOB_OPTIONS, maxQueued: { limit: this.options.maxQueuedJobs, what: 'verify runs' } });
  }

  /** Waits up to waitMs (or until `stop`); { done: false } when the run goes on. */
  async wait(job: VerifyJob, waitMs: number, stop?: AbortSignal): Promise<VerifyWaitOutcome> {
    return this.waitFor(job, waitMs, WAIT_GRACE_MS, stop);
  }
}
