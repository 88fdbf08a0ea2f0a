/**
 * How a process reports trouble with its Redis connections. A Redis that goes away is one warning
 * when the outage begins and one line when it is back, not a line per reconnect attempt; another
 * error is logged once until Redis is next ready (again, not once per retry). Every connection
 * handed to `watch` keeps an 'error' listener for its whole life, so ioredis never falls back to
 * printing "[ioredis] Unhandled error event" — not while it retries, not while it is being closed.
 */
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { describeRedisUrl } from './redis.ts';

/** Socket-level failures: the server cannot be reached, as opposed to a command of ours failing. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
const UNREACHABLE_MESSAGES = /Connection is closed|Stream isn't writeable|connect ETIMEDOUT|Command timed out|Reached the max retries per request limit/i;

export function isRedisUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return (typeof e?.code === 'string' && UNREACHABLE_CODES.has(e.code)) || (typeof e?.message === 'string' && UNREACHABLE_MESSAGES.test(e.message));
}

/** The logger of a component that was given none: warnings and worse, on stderr like pino's default. */
export function fallbackLogger(name: string): Logger {
  return pino({ name, level: process.env.LBC_LOG_LEVEL || 'warn' }, pino.destination({ dest: 2, sync: true }));
}

export class RedisConnectionLog {
  private readonly redis: string;
  private downSince: number | undefined;
  private attempts = 0;
  private closing = false;
  private waiters: (() => void)[] = [];
  /**
   * Other errors logged since Redis was last ready: one that recurs on every reconnect (a wrong
   * password, say) is logged once.
   */
  private readonly seen = new Set<string>();

  constructor(
    private readonly log: Logger,
    redisUrl: string,
  ) {
    this.redis = describeRedisUrl(redisUrl);
  }

  /** Gives `connection` its 'error' listener for good, and counts its 'ready' as Redis being back. */
  watch<T extends Redis>(connection: T): T {
    connection.on('error', this.onError);
    connection.on('ready', this.onReady);
    return connection;
  }

  /**
   * The listener for a BullMQ Queue, QueueEvents or Worker 'error' event: their own connections
   * (duplicates they make for blocking reads) forward socket errors there, beside job-loop errors.
   */
  readonly onError = (err: Error): void => {
    const unreachable = isRedisUnreachable(err);
    if (unreachable) this.attempts++;
    const begins = unreachable && this.downSince === undefined;
    if (begins) {
      this.downSince = Date.now();
      for (const wake of this.waiters.splice(0)) wake();
    }
    if (this.closing) {
      // The connections are being closed on purpose: what they report now is the shutdown itself.
      this.log.debug({ redis: this.redis, err: err.message }, 'Redis error while closing');
    } else if (!unreachable) {
      if (this.seen.has(err.message)) this.log.debug({ redis: this.redis, err: err.message }, 'Redis error (again)');
      else {
        this.seen.add(err.message);
        this.log.error({ redis: this.redis, err }, 'Redis error');
      }
    } else if (begins) {
      this.log.warn(
        { redis: this.redis, code: 'LBC_ERR_QUEUE_UNAVAILABLE', err: err.message },
        'Redis unreachable: compiles and queue requests fail with LBC_ERR_QUEUE_UNAVAILABLE until it is back; reconnecting',
      );
    }
  };

  private readonly onReady = (): void => {
    this.seen.clear();
    if (this.downSince === undefined) return;
    const ms = Date.now() - this.downSince;
    this.log[this.closing ? 'debug' : 'warn']({ redis: this.redis, downMs: ms, failedAttempts: this.attempts }, 'Redis reachable again');
    this.downSince = undefined;
    this.attempts = 0;
  };

  /** Whether an outage is in progress (the first unreachable error seen, no 'ready' since). */
  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** Resolves once an outage is in progress (at once if one is). */
  untilDown(): Promise<void> {
    if (this.down) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Call before closing the connections: from now on their errors are logged at debug level only. */
  close(): void {
    this.closing = true;
  }
}
