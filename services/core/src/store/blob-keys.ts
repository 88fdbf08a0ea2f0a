/**
 * The Redis keys of the farm blob store: small metadata only (which node holds a hash, which hash a
 * compile cache key produced). The bytes themselves never enter Redis.
 */
import type { Redis } from 'ioredis';
import { REDIS_PREFIX } from '../queue/jobs.ts';

/** Set of node URLs (http://host:port) that hold the blob with this sha256 on their disk. No TTL: a node that lost it is dropped when a fetch finds it gone. */
export const blobLocationKey = (sha256: string) => `${REDIS_PREFIX}:blob-at:${sha256}`;

/** String: the sha256 (and warnings) a compile cache key produced, JSON; TTL sharedArtifactTtlSeconds; written by the API node that settles the job. */
export const compiledRefKey = (cacheKey: string) => `${REDIS_PREFIX}:compiled:${cacheKey}`;

/** String: the cache key of a compiled object's sha256 (an artifact download on a node that never saw it); same TTL and writer. */
export const compiledShaKey = (sha256: string) => `${REDIS_PREFIX}:compiled-sha:${sha256}`;

/** Where earlier versions kept blob bytes in Redis (objects 7 days, kernel BTF forever): removed on start. */
const LEGACY_BLOB_PATTERNS = [`${REDIS_PREFIX}:artifact:*`, `${REDIS_PREFIX}:artifact-key:*`, `${REDIS_PREFIX}:btf:*`];

/** Deletes what earlier versions stored as bytes in Redis (the blob store holds it now); returns how many keys went. */
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
