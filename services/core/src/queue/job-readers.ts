/**
 * Who may read a compile job (GET /v1/jobs/:id): the tenants whose requests submitted or joined it.
 * Identical requests share one job (its id is the cache key), so a job may have several; each is a
 * member of a Redis set per job (REDIS_KEYS.jobReaders), kept a day (longer than BullMQ keeps a
 * finished job).
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../redis/redis-keys.ts';

const readersKey = redisKey.jobReaders;
const READERS_TTL_SECONDS = 86_400;

export async function addJobReader(redis: Redis, jobId: string, tenant: string): Promise<void> {
  const key = readersKey(jobId);
  await redis.multi().sadd(key, tenant).expire(key, READERS_TTL_SECONDS).exec();
}

export async function isJobReader(redis: Redis, jobId: string, tenant: string): Promise<boolean> {
  return (await redis.sismember(readersKey(jobId), tenant)) === 1;
}
