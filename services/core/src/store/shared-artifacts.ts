/**
 * Which object a compile produced, shared between API nodes through Redis as a reference only (the
 * bytes are in the farm blob store, farm-blobs.ts): the node that settles a job records cache key →
 * sha256 (+ warnings) for a while; any other node that misses in its own cache finds the hash here,
 * by cache key (a compile request) or by sha256 (an artifact download), and fetches the bytes by
 * hash. Records expire (ttlSeconds); an expired one is compiled again on demand.
 */
import type { Redis } from 'ioredis';
import { redisKey } from '../redis/redis-keys.ts';

export interface SharedArtifact {
  cacheKey: string;
  sha256: string;
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
      .set(redisKey.compiledRef(artifact.cacheKey), JSON.stringify({ sha256: artifact.sha256, warnings: artifact.warnings }), 'EX', this.ttlSeconds)
      .set(redisKey.compiledSha(artifact.sha256), artifact.cacheKey, 'EX', this.ttlSeconds)
      .exec();
  }

  async byCacheKey(cacheKey: string): Promise<SharedArtifact | null> {
    if (!this.enabled) return null;
    const raw = await this.redis.get(redisKey.compiledRef(cacheKey));
    if (!raw) return null;
    const ref = JSON.parse(raw) as { sha256?: unknown; warnings?: unknown };
    return typeof ref.sha256 === 'string' ? { cacheKey, sha256: ref.sha256, warnings: typeof ref.warnings === 'string' ? ref.warnings : '' } : null;
  }

  /** Drops a record (e.g. of an object known bad); nodes that hold the bytes keep them. */
  async forget(cacheKey: string, sha256: string): Promise<void> {
    await this.redis.del(redisKey.compiledRef(cacheKey), redisKey.compiledSha(sha256));
  }

  /** The compile that produced this hash; null when absent or expired. */
  async bySha(sha256: string): Promise<SharedArtifact | null> {
    if (!this.enabled) return null;
    const cacheKey = await this.redis.get(redisKey.compiledSha(sha256));
    const found = cacheKey ? await this.byCacheKey(cacheKey) : null;
    return found && found.sha256 === sha256 ? found : null;
  }
}
