/**
 * How farm nodes prove themselves to one another: every node holds the Redis that carries the
 * queue, and the farm secret lives there, made once by the first API node. A node sends an HMAC of
 * that secret over the hash of what it asks for (a blob, store/blob-access.ts), so the credential on
 * the wire opens that one item only and the secret never leaves Redis.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKey } from '../redis/redis-keys.ts';

export const FARM_SECRET_KEY = redisKey.farmSecret();

/** The farm's secret; the first API node that asks makes it (SET NX, so concurrent starts agree). */
export async function ensureFarmSecret(redis: Redis): Promise<string> {
  await redis.set(FARM_SECRET_KEY, randomBytes(32).toString('hex'), 'NX');
  return (await readFarmSecret(redis))!;
}

/** The farm's secret as a worker reads it; null before any API node has started. */
export function readFarmSecret(redis: Redis): Promise<string | null> {
  return redis.get(FARM_SECRET_KEY);
}

export function tokenEquals(expectedToken: string, token: string | undefined): boolean {
  if (!token) return false;
  const expected = Buffer.from(expectedToken, 'utf8');
  const given = Buffer.from(token, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
