/**
 * Load on the farm (loopback, bounded): REQUESTS compile requests over SOURCES distinct programs from
 * CLIENTS concurrent clients against the all-in-one service (API + worker, private Redis). Prints
 * latency percentiles (all, cold, cache hits), throughput and how many compiles ran.
 * Run: node --import tsx bench/load.ts [requests] [sources] [clients]
 */
import { Redis } from 'ioredis';
import type { KernelInfo } from '@lbc/contract';
import { COMPILES_COUNTER } from '@lbc/worker';
import { runLoad } from '@lbc/test-support/load-generator';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { fmt, percentile, report } from './stats.ts';

const [requests, sources, clients] = [Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 50), Number(process.argv[4] ?? 50)];

const redis = await startPrivateRedis();
const service = await startService({ redisUrl: redis.url });
const counter = new Redis(redis.url);
counter.on('error', () => {});
try {
  const kernels = (await (await fetch(`${service.url}/v1/kernels`)).json()) as { kernels: KernelInfo[] };
  const host = kernels.kernels.find((k) => k.source === 'host');
  if (!host) throw new Error('the service registered no host kernel');
  const result = await runLoad({ url: service.url, target: { release: host.release, arch: host.arch }, requests, sources, clients, tag: `b${Date.now()}` });
  if (result.wrong.length) throw new Error(`wrong answers:\n${result.wrong.slice(0, 10).join('\n')}`);
  const compiles = Number((await counter.get(COMPILES_COUNTER)) ?? 0);
  const row = (label: string, ms: number[]) =>
    [label, ms.length ? `n ${ms.length}  p50 ${fmt(percentile(ms, 50))}  p90 ${fmt(percentile(ms, 90))}  p99 ${fmt(percentile(ms, 99))}  max ${fmt(percentile(ms, 100))}` : 'n 0'] as [string, string];
  report(`load: ${requests} requests, ${sources} sources, ${clients} clients`, [
    row('all requests', result.samples.map((s) => s.ms)),
    row('compiled or joined a compile', result.samples.filter((s) => !s.cached).map((s) => s.ms)),
    row('cache hits', result.samples.filter((s) => s.cached).map((s) => s.ms)),
    ['throughput', `${(requests / (result.wallMs / 1000)).toFixed(0)} requests/s (${(result.wallMs / 1000).toFixed(1)} s)`],
    ['compiles run', `${compiles} (of ${sources} distinct sources)`],
  ]);
} finally {
  counter.disconnect();
  await service.stop();
  await redis.stop();
}
