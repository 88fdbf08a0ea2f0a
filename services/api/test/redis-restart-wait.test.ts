/**
 * Redis restarts empty (no persistence, as the launcher's private one runs) while a compile request
 * waits for its job: the job sends no event any more, so the wait notices it is gone, queues it
 * again and answers as the request asked (202 with the job, here: no worker is running), instead of
 * holding the request for all of waitMs and then answering 404 "no such job". A real Redis, killed
 * and started again on its port; no worker, so the job stays queued.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileAccepted, ErrorBody } from '@lbc/contract';
import { registerHostKernel } from '@lbc/core';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';
import { startRestartableRedis, type RestartableRedis } from '@lbc/test-support/restartable-redis';

const WAIT_MS = 15_000;

let redis: RestartableRedis;
let h: Harness;
beforeAll(async () => {
  redis = await startRestartableRedis();
  h = await startHarness({ redis, config: { redisTimeoutMs: 1000 } });
  await registerHostKernel(h.registry);
});
afterAll(async () => {
  await h?.close();
  await redis?.stop();
});

const waitingIds = async () => (await h.producer.queue.getWaiting()).map((j) => j.id);

describe('a compile waiting while Redis restarts empty', () => {
  it('is queued again within seconds and answered 202 with its job, not 404 LBC_ERR_JOB_NOT_FOUND after the whole wait', async () => {
    const host = h.registry.list().find((k) => k.source === 'host')!;
    const started = Date.now();
    const answer = h.app.inject({
      method: 'POST',
      url: '/v1/compile',
      payload: { name: 'restart', source: `#include "lbc.h"\nchar LICENSE[] SEC("license") = "GPL"; /* ${Date.now()} */\n`, target: { release: host.release, arch: host.arch }, waitMs: WAIT_MS },
    });
    let queued: string[] = [];
    for (let i = 0; i < 100 && queued.length === 0; i++, await sleep(50)) queued = (await waitingIds()) as string[];
    expect(queued).toHaveLength(1);

    await redis.kill();
    await sleep(300);
    await redis.start();
    // Empty now; the waiting request puts its job back.
    let again: string[] = [];
    for (let i = 0; i < 200 && again.length === 0; i++, await sleep(50)) again = ((await waitingIds().catch(() => [])) as string[]);
    expect(again).toEqual(queued);
    expect(Date.now() - started).toBeLessThan(WAIT_MS - 2000);

    const res = await answer;
    expect(res.statusCode, (res.json() as ErrorBody).error?.message).toBe(202);
    expect((res.json() as CompileAccepted).jobId).toBe(queued[0]);
  });
});
