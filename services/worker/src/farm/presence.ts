/**
 * The worker's heartbeat in Redis (see @lbc/core worker-registry): who it is, its toolchain, whether
 * its Docker engine answers and how busy it is. Sent every intervalMs and on every change.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { publishWorker, removeWorker, type WorkerReport } from '@lbc/core';

export interface Presence {
  readonly id: string;
  /** Publishes now (e.g. after Docker went down), besides the regular beat. */
  beat(): void;
  stop(): Promise<void>;
}

export function startPresence(redis: Redis, state: () => Omit<WorkerReport, 'id' | 'host' | 'pid'>, intervalMs = 2000): Presence {
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  let sending: Promise<void> | undefined;
  const beat = () => {
    // While Redis is away, one heartbeat waits for it; the rest are skipped rather than queued.
    if (sending) return;
    sending = publishWorker(redis, { id, host: hostname(), pid: process.pid, ...state() })
      .catch(() => {})
      .finally(() => (sending = undefined));
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return {
    id,
    beat,
    async stop() {
      clearInterval(timer);
      await Promise.race([removeWorker(redis, id).catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
    },
  };
}
