/** A redis-server the test can kill and start again on the same port, to play an outage. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnRedisServer } from '@lbc/core';
import { testClients, type PrivateRedis } from './redis.ts';

export interface RestartableRedis extends PrivateRedis {
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** `appendOnly`: keep an AOF (fsync always), as production Redis for BullMQ does, so a restart loses no job. */
export async function startRestartableRedis(opts: { appendOnly?: boolean } = {}): Promise<RestartableRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-redis-outage-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  const start = async () => {
    const persistence = opts.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    ({ child } = await spawnRedisServer({ dir, port, args: ['--save', '', ...persistence, '--maxmemory-policy', 'noeviction'], timeoutMs: 5_000 }));
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  };
  await start();
  const clients = testClients(url);
  const self: RestartableRedis = {
    url,
    port,
    get process() {
      return child;
    },
    connect: clients.connect,
    kill,
    start,
    async stop() {
      clients.closeAll();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
