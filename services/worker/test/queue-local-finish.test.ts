/**
 * A job's end heard within one process (core/queue/local-finish.ts): the API's wait for a job its
 * own worker runs learns of the result from the worker, yet answers only once BullMQ has stored the
 * job's end in Redis; a job of the same id in another Redis is not mistaken for it. Real Redis
 * servers, a real BullMQ worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompileProducer, RedisOwner, type CompileJobData, type CompileJobResult } from '@lbc/core';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { startQueueWorker, type QueueWorker } from '../src/queue-worker.ts';

const QUEUE = 'local-finish-test';
const OBJECT = 'a'.repeat(64);

let here: PrivateRedis;
let elsewhere: PrivateRedis;
const owners: RedisOwner[] = [];
const producers: CompileProducer[] = [];
const workers: QueueWorker<CompileJobData, CompileJobResult>[] = [];

function producerOn(url: string): CompileProducer {
  const owner = new RedisOwner({ url, timeoutMs: 2_000 });
  owners.push(owner);
  const producer = new CompileProducer({ redis: owner, maxQueuedJobs: 100, failureTtlSeconds: 60, queueName: QUEUE });
  producers.push(producer);
  return producer;
}

const jobData = (cacheKey: string) => ({ cacheKey, name: 'p', source: '', includes: {}, cflags: [], btfSha256: 'b', arch: 'x86_64', toolchain: 't' }) as CompileJobData;

beforeAll(async () => {
  [here, elsewhere] = await Promise.all([startPrivateRedis(), startPrivateRedis()]);
});

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.close()));
  await Promise.allSettled(producers.map((p) => p.close()));
  for (const owner of owners) await owner.close();
  await Promise.allSettled([here?.stop(), elsewhere?.stop()]);
});

describe('a job ended by a worker of the same process', () => {
  it('hands its result to the waiter early, and the wait ends only once Redis holds the job as completed', async () => {
    const producer = producerOn(here.url);
    await producer.ready();
    const owner = new RedisOwner({ url: here.url, timeoutMs: 2_000 });
    owners.push(owner);
    const worker = await startQueueWorker<CompileJobData, CompileJobResult>({
      redis: owner,
      queueName: QUEUE,
      concurrency: 1,
      lockDurationMs: 30_000,
      process: async () => ({ ok: true, sha256: OBJECT, size: 4, warnings: '', compileMs: 1 }),
    });
    workers.push(worker);

    const job = await producer.submit(jobData(`near-${Date.now()}`));
    const returned: CompileJobResult[] = [];
    const outcome = await producer.wait(job, 20_000, undefined, (result) => returned.push(result));
    expect(outcome).toEqual({ done: true, result: { ok: true, sha256: OBJECT, size: 4, warnings: '', compileMs: 1 } });
    expect(await (await producer.queue.getJob(job.id!))?.getState()).toBe('completed');
    expect(returned).toEqual([{ ok: true, sha256: OBJECT, size: 4, warnings: '', compileMs: 1 }]);
  });

  it('is not taken for a job of the same id queued in another Redis', async () => {
    const near = producerOn(here.url);
    const far = producerOn(elsewhere.url);
    await Promise.all([near.ready(), far.ready()]);
    const key = `same-${Date.now()}`;
    // No worker serves the far Redis: its job stays queued, whatever the near worker does with its own.
    const farJob = await far.submit(jobData(key));
    let farHeard = 0;
    const farWait = far.wait(farJob, 1_500, undefined, () => farHeard++);
    const nearJob = await near.submit(jobData(key));
    expect(nearJob.id).toBe(farJob.id);
    let nearHeard = 0;
    expect(await near.wait(nearJob, 20_000, undefined, () => nearHeard++)).toMatchObject({ done: true });
    expect(nearHeard).toBe(1);
    expect(await farWait).toEqual({ done: false });
    expect(farHeard).toBe(0);
  });
});
