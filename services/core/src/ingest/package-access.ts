/**
 * How farm nodes prove themselves to one another: every node holds the Redis that carries the
 * queue, and the farm secret lives there, made once by the first API node. A node sends an HMAC of
 * that secret over the hash of what it asks for or sends (a blob, store/blob-access.ts; a boot
 * image), so the credential on the wire opens that one item only and the secret never leaves Redis.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKey } from '../redis/redis-keys.ts';

export const FARM_SECRET_KEY = redisKey.farmSecret();

/** The header a node sends its boot-image credential in. */
export const PACKAGE_TOKEN_HEADER = 'x-lbc-package-token';

/** The farm's secret; the first API node that asks makes it (SET NX, so concurrent starts agree). */
export async function ensureFarmSecret(redis: Redis): Promise<string> {
  await redis.set(FARM_SECRET_KEY, randomBytes(32).toString('hex'), 'NX');
  return (await readFarmSecret(redis))!;
}

/** The farm's secret as a worker reads it; null before any API node has started. */
export function readFarmSecret(redis: Redis): Promise<string | null> {
  return redis.get(FARM_SECRET_KEY);
}

/** The credential a worker sends a boot image with (it opens that one upload only). */
export function bootImageToken(secret: string, imageSha256: string): string {
  return createHmac('sha256', secret).update(`boot-image:${imageSha256}`).digest('hex');
}

export function bootImageTokenValid(secret: string, imageSha256: string, token: string | undefined): boolean {
  return tokenEquals(bootImageToken(secret, imageSha256), token);
}

export function tokenEquals(expectedToken: string, token: string | undefined): boolean {
  if (!token) return false;
  const expected = Buffer.from(expectedToken, 'utf8');
  const given = Buffer.from(token, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
