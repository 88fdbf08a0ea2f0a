/**
 * The bound on compiles one tenant may have queued or running, across all API nodes: each tenant's
 * jobs are a Redis sorted set (job id, time added) pruned of jobs BullMQ has finished or dropped
 * whenever the tenant asks for another. A job the tenant already holds costs nothing more.
 */
import { LbcError } from '@lbc/contract';
import { redisKey, type RedisOwner } from '@lbc/core';

export interface TenantJobBoundOptions {
  /** The process's Redis: its command connection, each round trip bounded. */
  redis: RedisOwner;
  /** The Redis key of a job's hash (BullMQ's queue.toKey(jobId)). */
  jobKey: (jobId: string) => string;
  limit: number;
  /** What Retry-After says when the bound is reached. */
  retryAfterSeconds?: number;
}

/** A member whose job hash does not exist (yet) is kept this long: the job may be being added right now. */
const ADDING_GRACE_MS = 60_000;
const tenantKey = redisKey.tenantJobs;

export class TenantJobBound {
  constructor(private readonly options: TenantJobBoundOptions) {}

  private readonly guard = <T>(work: Promise<T>, what: string): Promise<T> => this.options.redis.guard(work, what);

  /** Counts jobId against the tenant, or throws LBC_ERR_TENANT_QUEUE_FULL (429). */
  async admit(tenant: string, jobId: string): Promise<void> {
    const { limit } = this.options;
    const { command: redis } = this.options.redis;
    const guard = this.guard;
    if (limit <= 0) return;
    const key = tenantKey(tenant);
    const held = await this.pendingJobs(tenant);
    if (held.includes(jobId)) return;
    // Add first, then count: two racing requests may both be refused, but never both admitted past the bound.
    const [, , count] = (await guard(redis.multi().zadd(key, Date.now(), jobId).expire(key, 86_400).zcard(key).exec(), 'counting tenant jobs')) ?? [];
    const total = Number(count?.[1] ?? 0);
    if (total > limit) {
      await guard(redis.zrem(key, jobId), 'counting tenant jobs');
      const retryAfterSeconds = this.options.retryAfterSeconds ?? 5;
      throw new LbcError('LBC_ERR_TENANT_QUEUE_FULL', `tenant ${tenant} has ${total - 1} compiles queued or running (bound ${limit})`, {
        tenant,
        queued: total - 1,
        limit,
        retryAfterSeconds,
      });
    }
  }

  /** The tenant's jobs still queued or running (finished and vanished ones are pruned on the way). */
  async pendingJobs(tenant: string): Promise<string[]> {
    const { jobKey } = this.options;
    const { command: redis } = this.options.redis;
    const guard = this.guard;
    const key = tenantKey(tenant);
    const raw = await guard(redis.zrange(key, 0, -1, 'WITHSCORES'), 'reading tenant jobs');
    if (raw.length === 0) return [];
    const members: { id: string; since: number }[] = [];
    for (let i = 0; i < raw.length; i += 2) members.push({ id: raw[i]!, since: Number(raw[i + 1]) });
    const probe = redis.pipeline();
    for (const m of members) probe.hmget(jobKey(m.id), 'finishedOn', 'timestamp');
    const states = (await guard(probe.exec(), 'reading tenant jobs')) ?? [];
    const now = Date.now();
    const live: string[] = [];
    const stale: string[] = [];
    members.forEach((m, i) => {
      const [finishedOn, created] = (states[i]?.[1] as (string | null)[] | undefined) ?? [null, null];
      const gone = created === null && now - m.since > ADDING_GRACE_MS;
      (finishedOn || gone ? stale : live).push(m.id);
    });
    if (stale.length > 0) await guard(redis.zrem(key, ...stale), 'pruning tenant jobs');
    return live;
  }
}
