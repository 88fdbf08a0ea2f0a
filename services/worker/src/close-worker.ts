/**
 * Closes a BullMQ Worker without hanging on a Redis that is gone. A graceful close lets the jobs in
 * hand finish, but first waits for its blocking connection to end, and a connection parked between
 * reconnect attempts never emits 'end' (bullmq#4656). So with Redis unreachable — before or during
 * the close — the worker stops at once: a job in hand could not be saved anyway, and another
 * worker takes it over once its lock lapses.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisConnectionLog } from '@lbc/core';

export async function closeWorker(worker: Worker, connection: Redis, connLog: RedisConnectionLog): Promise<void> {
  if (connLog.down || connection.status !== 'ready') {
    await worker.close(true);
    return;
  }
  await Promise.race([worker.close(), connLog.untilDown()]);
}
