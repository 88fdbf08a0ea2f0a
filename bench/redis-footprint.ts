/**
 * What Redis holds for a busy farm (issue 18: Redis is not a blob store): the all-in-one service on
 * a private Redis runs the load bench's 1,000 requests (50 distinct sources, 50 clients) ROUNDS
 * times, each round with new sources (the farm's objects grow); after each round it prints Redis's
 * used_memory, the size of a compile job's result as BullMQ stores it, and what lbc's own keys
 * hold, by key family. Goal: used_memory ≤ 50 MB, flat as objects grow. Every per-object key must
 * carry a TTL (blob location records, compile records): the bench fails on one that does not.
 * Run: node --import tsx bench/redis-footprint.ts [rounds] [requests] [sources] [clients]
 */
import { Redis } from 'ioredis';
import type { KernelInfo } from '@lbc/contract';
import { redisKey } from '@lbc/core';
import { runLoad } from '@lbc/test-support/load-generator';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { median, report } from './stats.ts';

const [rounds, requests, sources, clients] = [2, 1000, 50, 50].map((fallback, i) => Number(process.argv[2 + i] ?? fallback));
const MB = 1024 * 1024;

const redisServer = await startPrivateRedis();
const service = await startService({ redisUrl: redisServer.url });
const redis = new Redis(redisServer.url);
redis.on('error', () => {});

/** Keys by family (the text before a hash or id), with their count and MEMORY USAGE. */
async function families(): Promise<Map<string, { keys: number; bytes: number }>> {
  const out = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const family = key.replace(/[0-9a-f]{16,}.*$/, '*').replace(/:\d+$/, ':<id>');
      const entry = out.get(family) ?? { keys: 0, bytes: 0 };
      entry.keys++;
      entry.bytes += Number((await redis.memory('USAGE', key)) ?? 0);
      out.set(family, entry);
    }
  } while (cursor !== '0');
  return out;
}

/** Keys that grow with the farm's objects yet would never expire (none may). */
async function perObjectKeysWithoutTtl(): Promise<string[]> {
  const found: string[] = [];
  for (const match of [redisKey.blobLocation('*'), redisKey.compiledRef('*'), redisKey.compiledSha('*')]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) if ((await redis.ttl(key)) < 0) found.push(key);
    } while (cursor !== '0');
  }
  return found;
}

/** Sizes of the results of the compile jobs Redis still holds (BullMQ keeps completed jobs a while). */
async function jobResultBytes(): Promise<number[]> {
  const sizes: number[] = [];
  for (const key of await redis.keys('bull:lbc-compile:*')) {
    if ((await redis.type(key)) !== 'hash') continue;
    const n = await redis.hstrlen(key, 'returnvalue');
    if (n > 0) sizes.push(n);
  }
  return sizes;
}

try {
  const kernels = (await (await fetch(`${service.url}/v1/kernels`)).json()) as { kernels: KernelInfo[] };
  const host = kernels.kernels.find((k) => k.source === 'host');
  if (!host) throw new Error('the service registered no host kernel');
  for (let round = 1; round <= rounds; round++) {
    const result = await runLoad({ url: service.url, target: { release: host.release, arch: host.arch }, requests, sources, clients, tag: `f${round}${Date.now()}` });
    if (result.wrong.length) throw new Error(`wrong answers:\n${result.wrong.slice(0, 10).join('\n')}`);
    const memory = await redis.info('memory');
    const used = Number(/^used_memory:(\d+)/m.exec(memory)?.[1]);
    const results = await jobResultBytes();
    const rows: [string, string][] = [
      ['used_memory (goal <= 50 MB)', `${(used / MB).toFixed(1)} MB`],
      ['compile job result in Redis, median (max)', results.length ? `${median(results)} B (max ${Math.max(...results)} B) over ${results.length} jobs` : 'no job results held'],
    ];
    const byFamily = [...(await families()).entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 8);
    for (const [family, { keys, bytes }] of byFamily) rows.push([`  ${family}`, `${keys} keys, ${(bytes / 1024).toFixed(0)} KB`]);
    const forever = await perObjectKeysWithoutTtl();
    rows.push(['per-object keys without a TTL (must be 0)', String(forever.length)]);
    report(`Redis after round ${round}: ${round * requests} requests, ${round * sources} distinct objects, ${clients} clients`, rows);
    if (forever.length) throw new Error(`keys that would grow forever: ${forever.slice(0, 5).join(', ')}`);
  }
} finally {
  redis.disconnect();
  await service.stop();
  await redisServer.stop();
}
