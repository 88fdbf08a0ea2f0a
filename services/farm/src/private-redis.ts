/**
 * The redis-server the launcher starts when REDIS_URL is unset: on 127.0.0.1 at a free port,
 * files under <dataDir>/redis, no persistence (the queue is transient; SQLite holds what lasts),
 * noeviction as BullMQ requires.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnRedisServer } from '@lbc/core';

export interface OwnedRedis {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A redis-server left behind by a launcher that was killed: stop it so its port and files are free. */
function stopOrphan(pidFile: string): void {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (pid > 0 && readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('redis-server')) process.kill(pid, 'SIGKILL');
  } catch {
    // No pid file or no such process: nothing to stop.
  }
  rmSync(pidFile, { force: true });
}

export async function startOwnedRedis(dataDir: string, timeoutMs = 10_000): Promise<OwnedRedis> {
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'launcher-redis.pid');
  stopOrphan(pidFile);
  let server;
  try {
    server = await spawnRedisServer({
      dir,
      args: ['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes'],
      timeoutMs,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new Error(`cannot start redis-server (install it, or set REDIS_URL): ${e.message}`);
    throw err;
  }
  const { url, child } = server;
  writeFileSync(pidFile, String(child.pid));
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(3000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      rmSync(pidFile, { force: true });
    },
  };
}
