/** A private, throwaway redis-server for one test file: real Redis, nothing shared between files. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createBlockingRedis, fallbackLogger, RedisConnectionLog, spawnRedisServer } from '@lbc/core';

export interface PrivateRedis {
  url: string;
  port: number;
  process: ChildProcess;
  /**
   * A client of this server for the test's own reads and writes (no command bound, as BullMQ
   * wants), logging an outage once like the services' connections. stop() disconnects it first.
   */
  connect(): Redis;
  /** Disconnects the clients connect() handed out, then stops the server. */
  stop(): Promise<void>;
}

/** connect() and the disconnect-before-stop half of stop(), for every kind of test Redis. */
export function testClients(url: string): { connect(): Redis; closeAll(): void } {
  const clients: Redis[] = [];
  const connLog = new RedisConnectionLog(fallbackLogger('test-redis'), url);
  return {
    connect() {
      const client = createBlockingRedis(url, connLog);
      clients.push(client);
      return client;
    },
    closeAll() {
      connLog.close();
      for (const client of clients.splice(0)) client.disconnect();
    },
  };
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-redis-'));
  let server;
  try {
    server = await spawnRedisServer({ dir, args: ['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], timeoutMs: 5_000 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { port, child } = server;
  const url = `redis://127.0.0.1:${port}`;
  const clients = testClients(url);
  return {
    url,
    port,
    process: child,
    connect: clients.connect,
    async stop() {
      clients.closeAll();
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
