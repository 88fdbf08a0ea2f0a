/**
 * Raw BTF blobs shared through Redis so that any worker on any host can build the kernel set it
 * needs from the hash alone. The API writes on registration; workers read on demand.
 */
import type { Redis } from 'ioredis';
import { REDIS_PREFIX } from '../queue/jobs.ts';

const key = (sha256: string) => `${REDIS_PREFIX}:btf:${sha256}`;

export async function putSharedBtf(redis: Redis, sha256: string, btf: Buffer): Promise<void> {
  await redis.set(key(sha256), btf);
}

export async function getSharedBtf(redis: Redis, sha256: string): Promise<Buffer | null> {
  return redis.getBuffer(key(sha256));
}

export async function hasSharedBtf(redis: Redis, sha256: string): Promise<boolean> {
  return (await redis.exists(key(sha256))) === 1;
}
