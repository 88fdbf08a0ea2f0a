/**
 * Redis stops: compiles that need the queue answer 503 LBC_ERR_QUEUE_UNAVAILABLE quickly instead of
 * hanging, cache hits keep working, /readyz says why; Redis back (empty): the service recovers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileResult, ErrorBody } from '@lbc/contract';
import { loadConfig } from '@lbc/core';
import { startFarm, type Farm } from '@lbc/test-support/api-farm';
import { startRestartableRedis, type RestartableRedis } from '@lbc/test-support/restartable-redis';

let redis: RestartableRedis;
let farm: Farm;
beforeAll(async () => {
  redis = await startRestartableRedis();
  // The default per-call bound (5 s): a stopped Redis must fail fast without waiting for it.
  farm = await startFarm({ redis, config: { redisTimeoutMs: loadConfig({}).redisTimeoutMs } });
});
afterAll(async () => {
  await farm?.close();
  await redis?.stop();
});

const source = (tag: string) => `#include "lbc.h"
LBC_ARRAY(hits, u64, 1);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) { u32 k = 0; u64 *v = bpf_map_lookup_elem(&hits, &k); if (v) __sync_fetch_and_add(v, 1); return 0; /* ${tag} */ }
char LICENSE[] SEC("license") = "GPL";
`;
const compile = (src: string) =>
  farm.app.inject({ method: 'POST', url: '/v1/compile', payload: { name: 'outage', source: src, target: { release: farm.host.release, arch: farm.host.arch }, waitMs: 60_000 } });

describe('Redis outage', () => {
  it('answers 503 quickly while Redis is down, and recovers when it is back', async () => {
    const warm = await compile(source('before'));
    expect(warm.statusCode).toBe(200);

    await redis.kill();
    const started = Date.now();
    const down = await compile(source('during'));
    const elapsed = Date.now() - started;
    expect(down.statusCode).toBe(503);
    expect((down.json() as ErrorBody).error.code).toBe('LBC_ERR_QUEUE_UNAVAILABLE');
    expect(elapsed).toBeLessThan(1000);

    const ready = await farm.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ ok: false, checks: { redis: { ok: false }, disk: { ok: true } } });
    // The cache does not need Redis.
    const hit = await compile(source('before'));
    expect(hit.statusCode).toBe(200);
    expect((hit.json() as CompileResult).cached).toBe(true);

    // Back, but empty (no persistence): kernel BTF is published again on demand, workers reconnect.
    await redis.start();
    const deadline = Date.now() + 30_000;
    let after = await compile(source('after'));
    while (after.statusCode === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      after = await compile(source('after'));
    }
    expect(after.statusCode).toBe(200);
    expect((after.json() as CompileResult).cached).toBe(false);
    expect((await farm.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('a hung Redis (stopped, not closed) costs at most the per-call bound, then 503', async () => {
    const bound = farm.config.redisTimeoutMs;
    redis.process.kill('SIGSTOP');
    try {
      const started = Date.now();
      const res = await compile(source(`hung ${Date.now()}`));
      const elapsed = Date.now() - started;
      expect(res.statusCode).toBe(503);
      expect((res.json() as ErrorBody).error.code).toBe('LBC_ERR_QUEUE_UNAVAILABLE');
      expect(elapsed).toBeGreaterThanOrEqual(bound - 50);
      expect(elapsed).toBeLessThan(bound + 2000);
    } finally {
      redis.process.kill('SIGCONT');
    }
    const deadline = Date.now() + 30_000;
    let after = await compile(source('after hang'));
    while (after.statusCode === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      after = await compile(source('after hang'));
    }
    expect(after.statusCode).toBe(200);
  });
});
