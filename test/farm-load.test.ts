/**
 * The farm under load (loopback only, bounded): 1,000 compile requests over 50 distinct sources
 * from 50 concurrent clients against the real service (API + worker, private Redis). Every answer
 * is right — one object per source, holding that source's own map — and each source is compiled
 * at most once, however many requests for it arrive at the same moment.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelInfo } from '@lbc/contract';
import { COMPILES_COUNTER } from '@lbc/worker';
import { runLoad } from '@lbc/test-support/load-generator';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { startService, type RunningService } from '@lbc/test-support/service';
import { percentile } from '../bench/stats.ts';

let redis: PrivateRedis;
let service: RunningService;
let counter: Redis;

beforeAll(async () => {
  redis = await startPrivateRedis();
  service = await startService({ redisUrl: redis.url });
  counter = new Redis(redis.url);
  counter.on('error', () => {});
});
afterAll(async () => {
  counter?.disconnect();
  await service?.stop();
  await redis?.stop();
});

describe('the farm under load', () => {
  it('1,000 requests over 50 sources from 50 clients: every answer right, at most 50 compiles', async () => {
    const kernels = (await (await fetch(`${service.url}/v1/kernels`)).json()) as { kernels: KernelInfo[] };
    const host = kernels.kernels.find((k) => k.source === 'host')!;
    const before = Number((await counter.get(COMPILES_COUNTER)) ?? 0);

    const result = await runLoad({ url: service.url, target: { release: host.release, arch: host.arch }, requests: 1000, sources: 50, clients: 50, tag: `t${Date.now()}` });

    expect(result.wrong).toEqual([]);
    expect(result.samples).toHaveLength(1000);
    expect(result.objects.size).toBe(50);
    const compiles = Number((await counter.get(COMPILES_COUNTER)) ?? 0) - before;
    // At most one per source, and at least one (the farm is fresh).
    expect(compiles).toBe(50);
    // Requests that joined a running compile answer cached: false too; the rest are cache hits.
    const hits = result.samples.filter((s) => s.cached).map((s) => s.ms);
    expect(hits.length).toBeGreaterThan(500);
    const all = result.samples.map((s) => s.ms);
    console.log(
      `load: ${result.samples.length} requests in ${(result.wallMs / 1000).toFixed(1)} s, ${compiles} compiles; ` +
        `latency p50 ${percentile(all, 50).toFixed(1)} ms, p90 ${percentile(all, 90).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms, max ${percentile(all, 100).toFixed(1)} ms; ` +
        `cache hits p50 ${percentile(hits, 50).toFixed(1)} ms, p99 ${percentile(hits, 99).toFixed(1)} ms`,
    );
  }, 300_000);
});
