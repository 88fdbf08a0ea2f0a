/**
 * Compiled objects shared between API nodes through Redis, so no node needs a shared disk: the node
 * that settles a job publishes the object (bytes, cache key, warnings) for a while; any other node
 * that misses in its own cache fills it from here, by cache key (a compile request) or by sha256
 * (an artifact download). Entries expire (ttlSeconds) so Redis — which runs with noeviction for
 * BullMQ — holds recent objects only; an expired one is compiled again on demand.
 */
import type { Redis } from 'ioredis';
import { REDIS_PREFIX } from '../queue/jobs.ts';
import { sha256Of } from './blob-store.ts';

const objectKey = (sha256: string) => `${REDIS_PREFIX}:artifact:${sha256}`;
const cacheKeyKey = (cacheKey: string) => `${REDIS_PREFIX}:artifact-key:${cacheKey}`;

export interface SharedArtifact {
  cacheKey: string;
  sha256: string;
  bytes: Buffer;
  warnings: string;
}

export class SharedArtifacts {
  constructor(
    private readonly redis: Redis,
    /** 0 turns sharing off. */
    private readonly ttlSeconds: number,
  ) {}

  get enabled(): boolean {
    return this.ttlSeconds > 0;
  }

  async publish(artifact: SharedArtifact): Promise<void> {
    if (!this.enabled) return;
    await this.redis
      .multi()
      .hset(objectKey(artifact.sha256), { bytes: artifact.bytes, cacheKey: artifact.cacheKey, warnings: artifact.warnings })
      .expire(objectKey(artifact.sha256), this.ttlSeconds)
      .set(cacheKeyKey(artifact.cacheKey), artifact.sha256, 'EX', this.ttlSeconds)
      .exec();
  }

  async byCacheKey(cacheKey: string): Promise<SharedArtifact | null> {
    if (!this.enabled) return null;
    const sha256 = await this.redis.get(cacheKeyKey(cacheKey));
    const found = sha256 ? await this.bySha(sha256) : null;
    return found && found.cacheKey === cacheKey ? found : null;
  }

  /** Drops an object (e.g. one known bad); nodes that hold it keep their own copy. */
  async forget(cacheKey: string, sha256: string): Promise<void> {
    await this.redis.del(objectKey(sha256), cacheKeyKey(cacheKey));
  }

  /** The object with this hash, verified; null when absent, expired or not matching its hash. */
  async bySha(sha256: string): Promise<SharedArtifact | null> {
    if (!this.enabled) return null;
    const [bytes, cacheKey, warnings] = await this.redis.hmgetBuffer(objectKey(sha256), 'bytes', 'cacheKey', 'warnings');
    if (!bytes || !cacheKey || sha256Of(bytes) !== sha256) return null;
    return { sha256, bytes, cacheKey: cacheKey.toString('utf8'), warnings: warnings?.toString('utf8') ?? '' };
  }
}
