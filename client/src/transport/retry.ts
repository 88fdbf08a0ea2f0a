import { setTimeout as sleep } from 'node:timers/promises';
import { LbcError, type ErrorCode } from '@lbc/contract';

/** Answers of a live service that say "not now": its queue or workers are away, or a quota is spent. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'LBC_ERR_QUEUE_UNAVAILABLE',
  'LBC_ERR_SANDBOX_UNAVAILABLE',
  'LBC_ERR_QUEUE_FULL',
  'LBC_ERR_TENANT_QUEUE_FULL',
  'LBC_ERR_RATE_LIMITED',
]);

const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;
/** A Retry-After longer than this is not waited for in one go: the deadline decides. */
const MAX_RETRY_AFTER_MS = 30_000;

export interface RetryPolicy {
  /** Epoch ms past which the last error is thrown instead of waiting again. */
  deadline: number;
  /**
   * Also wait out an unreachable service. Only once it has accepted the work (polling a queued
   * job survives a restart of the API or Redis); a first request to a dead service fails at once.
   */
  unreachable: boolean;
  /** Told before each wait, e.g. to show it on a spinner. */
  onWait?: (err: LbcError, ms: number) => void;
}

/**
 * Runs `attempt` until it succeeds, its error is not transient, or the deadline comes: waiting
 * the service's Retry-After when it gives one, else backing off from 200 ms to 5 s.
 */
export async function retrying<T>(attempt: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  let backoff = FIRST_DELAY_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      const ms = retryDelay(err, policy.unreachable, backoff);
      if (ms === undefined || Date.now() + ms > policy.deadline) throw err;
      policy.onWait?.(err as LbcError, ms);
      await sleep(ms);
      backoff = Math.min(backoff * 2, MAX_DELAY_MS);
    }
  }
}

function retryDelay(err: unknown, unreachable: boolean, backoff: number): number | undefined {
  if (!(err instanceof LbcError)) return undefined;
  if (err.code === 'LBC_ERR_SERVER_UNREACHABLE') return unreachable ? backoff : undefined;
  if (!TRANSIENT.has(err.code)) return undefined;
  const seconds = Number(err.details?.retryAfterSeconds);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : backoff;
}
