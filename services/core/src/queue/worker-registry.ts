/**
 * Workers announce themselves in Redis (one hash field each, refreshed by a heartbeat): which host,
 * which toolchain, whether their Docker engine answers, how many compiles they run. The API reads
 * it to refuse compiles quickly when no worker can run them (LBC_ERR_SANDBOX_UNAVAILABLE) instead
 * of queueing them into a dead farm. Timestamps are Redis server time, so host clocks may differ.
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../redis/redis-keys.ts';

export const WORKERS_KEY = redisKey.workers();

/** A worker not heard from for this long is gone (killed, or cut off from Redis). */
export const WORKER_STALE_MS = 10_000;

export interface WorkerReport {
  id: string;
  host: string;
  pid: number;
  toolchain: string;
  /** The compile image tag it runs (LBC_IMAGE): API nodes without a Docker engine learn its identity here. */
  image: string;
  /** False while the worker's Docker engine does not answer: it takes no jobs then. */
  dockerOk: boolean;
  concurrency: number;
  active: number;
  /** The kernel lab version its verify worker runs guests with (absent: it runs none). */
  labVersion?: string;
}

export interface WorkerSeen extends WorkerReport {
  /** Redis server time of the last heartbeat, in ms. */
  seenMs: number;
}

// Stamped with Redis' clock: `now` both for the write and, on read, for the age.
const PUBLISH = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], now .. ' ' .. ARGV[2])
return now`;
const READ = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return { tostring(now), redis.call('HGETALL', KEYS[1]) }`;

/**
 * The toolchain identity of a compile image as live workers report it, for an API node that has
 * no Docker engine of its own: waits up to timeoutMs for a worker with that image to announce itself.
 */
export async function toolchainFromWorkers(redis: Redis, image: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await liveWorkers(redis).catch(() => [])).find((w) => w.image === image);
    if (found) return found.toolchain;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function publishWorker(redis: Redis, report: WorkerReport): Promise<void> {
  await redis.eval(PUBLISH, 1, WORKERS_KEY, report.id, JSON.stringify(report));
}

export async function removeWorker(redis: Redis, id: string): Promise<void> {
  await redis.hdel(WORKERS_KEY, id);
}

/** Workers heard from within WORKER_STALE_MS; older entries are dropped from the hash. */
export async function liveWorkers(redis: Redis, staleMs = WORKER_STALE_MS): Promise<WorkerSeen[]> {
  const [nowRaw, flat] = (await redis.eval(READ, 1, WORKERS_KEY)) as [string, string[]];
  const now = Number(nowRaw);
  const live: WorkerSeen[] = [];
  const stale: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const value = flat[i + 1]!;
    const space = value.indexOf(' ');
    const seenMs = Number(value.slice(0, space));
    // Long gone: forget it (a worker that comes back announces itself again).
    if (now - seenMs > 30 * staleMs) stale.push(flat[i]!);
    if (now - seenMs > staleMs) continue;
    live.push({ ...(JSON.parse(value.slice(space + 1)) as WorkerReport), seenMs });
  }
  if (stale.length > 0) await redis.hdel(WORKERS_KEY, ...stale);
  return live;
}
