/** A private, throwaway redis-server for one test file: real Redis, nothing shared between files. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createBlockingRedis, fallbackLogger, freePort, RedisConnectionLog, waitForRedisServer } from '@lbc/core';

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

/** Tries this many free ports: another process may take the one chosen before redis-server binds it. */
const PORT_ATTEMPTS = 5;

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-redis-'));
  let port = 0;
  let child!: ChildProcess;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction'],
      { stdio: 'ignore' },
    );
    try {
      await waitForRedisServer(`redis://127.0.0.1:${port}`, { timeoutMs: 5_000, exited: () => (child.exitCode !== null ? `exited with ${child.exitCode}` : undefined) });
      break;
    } catch (err) {
      // A redis-server that exits at once could not bind its port; one that hangs is a real fault.
      if (child.exitCode === null || attempt === PORT_ATTEMPTS) {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
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
