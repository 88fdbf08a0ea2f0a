/**
 * The one owner of a process's Redis: its connections, the bound on each request-path call and the
 * outage log. The server (or worker) process makes one and hands it to every part that talks to
 * Redis — queues, the kernel registry, tokens, stats, rate limits, job bounds — so nothing borrows
 * a connection from a queue producer, and one outage is reported once.
 *
 * Closing is two steps because the parts close in between: `closing()` first (what the connections
 * report from then on is the shutdown, not an outage), then the parts close their queues and
 * workers, then `close()` disconnects whatever connection is still open.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createBlockingRedis, createCommandRedis, waitRedisReady, withRedisTimeout } from './redis.ts';
import { fallbackLogger, RedisConnectionLog } from './redis-log.ts';

export interface RedisOwnerOptions {
  url: string;
  /** Bound on each request-path round trip (LBC_REDIS_TIMEOUT_MS). */
  timeoutMs: number;
  /** Where the outage log writes; absent ⇒ warnings on stderr under `name`. */
  log?: Logger;
  name?: string;
}

export class RedisOwner {
  readonly url: string;
  readonly timeoutMs: number;
  /** One report per outage for every connection of the process. */
  readonly log: RedisConnectionLog;
  private commandConnection: Redis | undefined;
  private readonly open = new Set<Redis>();

  constructor(options: RedisOwnerOptions) {
    this.url = options.url;
    this.timeoutMs = options.timeoutMs;
    this.log = new RedisConnectionLog(options.log ?? fallbackLogger(options.name ?? 'lbc'), options.url);
  }

  /**
   * The shared connection for request-path commands: fails fast while Redis is down (no offline
   * queue), so every call through `guard` is a quick LBC_ERR_QUEUE_UNAVAILABLE. Made on first use.
   */
  get command(): Redis {
    if (!this.commandConnection) {
      this.commandConnection = createCommandRedis(this.url, this.timeoutMs, this.log);
      this.open.add(this.commandConnection);
    }
    return this.commandConnection;
  }

  /**
   * A connection of its own that waits out an outage: BullMQ QueueEvents and Worker, and a worker's
   * own commands (presence, stats, kernel sets), which must not fail while Redis restarts.
   * Hand it back with `release` when the part that asked for it closes.
   */
  openBlocking(): Redis {
    const connection = createBlockingRedis(this.url, this.log);
    this.open.add(connection);
    return connection;
  }

  /** Disconnects a connection from `openBlocking` (ioredis's own disconnect: BullMQ's waits for an 'end' a reconnecting client never emits). */
  release(connection: Redis): void {
    this.open.delete(connection);
    connection.disconnect();
  }

  /** Runs one Redis round trip with the bound (or a longer one, at start-up); any failure is LBC_ERR_QUEUE_UNAVAILABLE. */
  guard<T>(work: Promise<T>, what: string, timeoutMs = this.timeoutMs): Promise<T> {
    return withRedisTimeout(work, timeoutMs, what);
  }

  /** Resolves when the command connection is ready; LBC_ERR_QUEUE_UNAVAILABLE after timeoutMs. */
  async ready(timeoutMs = this.timeoutMs): Promise<void> {
    await waitRedisReady(this.command, timeoutMs);
  }

  async ping(): Promise<void> {
    await this.guard(this.command.ping(), 'ping');
  }

  /** The shutdown begins: connection errors from now on are logged at debug level only. */
  closing(): void {
    this.log.close();
  }

  /** Disconnects every connection still open (after the parts closed their queues and workers). */
  close(): void {
    this.closing();
    for (const connection of this.open) connection.disconnect();
    this.open.clear();
    this.commandConnection = undefined;
  }
}

/** A part's Redis: the process's owner when it was given one, else one of its own that it closes itself. */
export function borrowOrOwn(given: RedisOwner | undefined, own: () => RedisOwner): { redis: RedisOwner; owned: boolean } {
  return given ? { redis: given, owned: false } : { redis: own(), owned: true };
}
