/**
 * Who may read a compile job (GET /v1/jobs/:id): the tenants whose requests submitted or joined it.
 * Identical requests share one job (its id is the cache key), so a job may have several; each is a
 * member of a Redis set per job, kept a day (longer than BullMQ keeps a finished job).
 *
 *   lbc:job-readers:<jobId>   set of tenant names   TTL 86400 s   written by the API on compile
 */
import type { Redis } from 'ioredis';
import { REDIS_PREFIX } from './jobs.ts';

const readersKey = (jobId: string) => `${REDIS_PREFIX}:job-readers:${jobId}`;
const READERS_TTL_SECONDS = 86_400;

export async function addJobReader(redis: Redis, jobId: string, tenant: string): Promise<void> {
  const key = readersKey(jobId);
  await redis.multi().sadd(key, tenant).expire(key, READERS_TTL_SECONDS).exec();
}

export async function isJobReader(redis: Redis, jobId: string, tenant: string): Promise<boolean> {
  return (await redis.sismember(readersKey(jobId), tenant)) === 1;
}
