/**
 * Earlier versions kept blob bytes in Redis (objects 7 days, kernel BTF forever): the blob store
 * holds them now, and a farm process removes the old keys when it starts.
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
