/**
 * Redis connections of the API side. Request paths must never hang on a dead Redis: command
 * connections fail fast (no offline queue, one retry) and every call is bounded by a timeout that
 * turns into LBC_ERR_QUEUE_UNAVAILABLE (503).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { LbcError, isLbcError } from '@lbc/contract';
import type { RedisConnectionLog } from './redis-log.ts';

/**
 * A connection for request-path commands: fails fast while Redis is down, reconnects by itself.
 * Errors surface through the commands; `connLog` reports the outage once.
 */
export function createCommandRedis(url: string, timeoutMs: number, connLog: RedisConnectionLog): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
  });
  return connLog.watch(redis);
}

/** A connection for blocking reads and for workers (BullMQ QueueEvents, Worker): waits as long as it must. */
export function createBlockingRedis(url: string, connLog: RedisConnectionLog): Redis {
  return connLog.watch(new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (attempt) => Math.min(100 * attempt, 1000) }));
}

/** Waits until the connection is ready, or throws LBC_ERR_QUEUE_UNAVAILABLE after timeoutMs. */
export async function waitRedisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await withRedisTimeout(
    new Promise<void>((resolve) => {
      const onReady = () => {
        redis.off('ready', onReady);
        resolve();
      };
      redis.on('ready', onReady);
    }),
    timeoutMs,
    'connecting',
  );
}

/** Runs one Redis round trip with a bound; any failure is the queue being unavailable. */
export async function withRedisTimeout<T>(work: Promise<T>, timeoutMs: number, what = 'request'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LbcError('LBC_ERR_QUEUE_UNAVAILABLE', `no answer from Redis within ${timeoutMs} ms (${what})`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (err) {
    if (isLbcError(err)) throw err;
    throw new LbcError('LBC_ERR_QUEUE_UNAVAILABLE', `${what}: ${(err as Error).message}`, undefined, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** A redacted form of a Redis URL for logs and errors. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}

/**
 * One PING on a throwaway connection: does a Redis answer at `url` right now? Bounded: a listener
 * that is not Redis (it took the port first) accepts and never answers. `tls`: for a rediss:// URL
 * whose CA the process does not trust by itself.
 */
export async function redisAnswers(url: string, timeoutMs = 1_000, tls?: RedisOptions['tls']): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableReadyCheck: false,
    ...(tls ? { tls } : {}),
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * Waits for a redis-server just spawned to answer at `url`. Throws when `exited()` reports why the
 * server is gone, or after timeoutMs.
 */
export async function waitForRedisServer(url: string, opts: { timeoutMs: number; exited?: () => string | undefined }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const gone = opts.exited?.();
    if (gone) throw new Error(`redis-server ${gone}`);
    // Short probes: a server that could not bind exits at once, and the port's owner may be a
    // listener that never answers (redisAnswers bounds each probe).
    if (await redisAnswers(url, 250)) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${url} within ${opts.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
