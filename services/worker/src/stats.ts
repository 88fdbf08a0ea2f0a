/** Counters the worker keeps in Redis beside BullMQ's keys; tests read them to prove deduplication. */
import type { Redis } from 'ioredis';
import { redisKey } from '@lbc/core';

export const COMPILES_COUNTER = redisKey.compileCount();

export async function countCompile(redis: Redis): Promise<void> {
  await redis.incr(COMPILES_COUNTER);
}
