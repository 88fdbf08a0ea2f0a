/**
 * Earlier versions kept blob bytes in Redis (objects 7 days, kernel BTF forever): the blob store
 * holds them now, and a farm process removes the old keys when it starts. Their location records
 * had no TTL: the same start gives each one the bounded life records have now.
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../redis/redis-keys.ts';

const LEGACY_BLOB_PATTERNS = [redisKey.legacyArtifact('*'), redisKey.legacyArtifactKey('*'), redisKey.legacyKernelBtf('*')];

/** Deletes what earlier versions stored as bytes in Redis; returns how many keys went. */
export async function dropLegacyBlobKeys(redis: Redis): Promise<number> {
  let dropped = 0;
  for (const match of LEGACY_BLOB_PATTERNS) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
      cursor = next;
      if (keys.length) dropped += await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  return dropped;
}

/** Gives every location record without a TTL (written by an earlier version) one; returns how many. */
export async function boundLegacyLocationRecords(redis: Redis, ttlSeconds: number): Promise<number> {
  let bounded = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', redisKey.blobLocation('*'), 'COUNT', 500);
    cursor = next;
    if (keys.length === 0) continue;
    const ttls = await keys.reduce((m, key) => m.ttl(key), redis.pipeline()).exec();
    const forever = keys.filter((_, i) => ttls?.[i]?.[1] === -1);
    if (forever.length === 0) continue;
    await forever.reduce((m, key) => m.expire(key, ttlSeconds), redis.pipeline()).exec();
    bounded += forever.length;
  } while (cursor !== '0');
  return bounded;
}
