/**
 * The worker side of one BullMQ queue, the same for every feature (compile, ingest, verify): a
 * Worker on a blocking connection of the process's Redis owner, its errors to the outage log, ready
 * before it is handed back, and a close that does not hang on a Redis that is gone (close-worker.ts).
 * The features give it their queue, job function, concurrency and lock settings.
 */
import { Worker, type Processor } from 'bullmq';
import { announceLocalFinish, stageMark, stageTimingOn, type RedisOwner } from '@lbc/core';
import { closeWorker } from './close-worker.ts';

export interface QueueWorkerOptions<D, R> {
  redis: RedisOwner;
  queueName: string;
  process: Processor<D, R>;
  concurrency: number;
  /** BullMQ job lock; a dead worker's job is taken over after about this long. */
  lockDurationMs: number;
  /** BullMQ's own default (30 s) when absent. */
  stalledIntervalMs?: number;
  /** Recorded on each job as processedBy. */
  name?: string;
}

export interface QueueWorker<D, R> {
  worker: Worker<D, R>;
  /** Lets the jobs in hand finish (unless Redis is gone), then hands the connection back. */
  close(): Promise<void>;
}

export async function startQueueWorker<D, R>(opts: QueueWorkerOptions<D, R>): Promise<QueueWorker<D, R>> {
  const connection = opts.redis.openBlocking();
  const redisUrl = opts.redis.url;
  // An API of this process waiting for the job hears of its end from here (core/queue/local-finish.ts).
  const process: Processor<D, R> = async (job, token, signal) => {
    const result = await opts.process(job, token, signal);
    // After BullMQ has sent the job's end to Redis (its sends follow this return within the same
    // turn of the event loop): what the API does with the result then overlaps that round trip
    // instead of holding it back.
    setImmediate(() => announceLocalFinish({ redisUrl, queue: job.queueQualifiedName, jobId: job.id! }, 'returned', result));
    return result;
  };
  const worker = new Worker<D, R>(opts.queueName, process, {
    connection,
    concurrency: opts.concurrency,
    ...(opts.name ? { name: opts.name } : {}),
    lockDuration: opts.lockDurationMs,
    // Absent, not undefined: BullMQ spreads the options over its defaults.
    ...(opts.stalledIntervalMs !== undefined ? { stalledInterval: opts.stalledIntervalMs } : {}),
    maxStalledCount: 2,
  });
  worker.on('error', opts.redis.log.onError);
  worker.on('completed', (job, result) => announceLocalFinish({ redisUrl, queue: job.queueQualifiedName, jobId: job.id! }, 'completed', result));
  if (stageTimingOn) {
    worker.on('active', (job) => stageMark('worker.active', job.id));
    worker.on('completed', (job) => stageMark('worker.completed', job.id));
  }
  await worker.waitUntilReady();
  return {
    worker,
    async close() {
      await closeWorker(worker, connection, opts.redis.log);
      opts.redis.release(connection);
    },
  };
}
