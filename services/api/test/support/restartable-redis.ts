/** A redis-server the test can kill and start again on the same port, to play an outage. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { PrivateRedis } from '../../../../test/support/redis.ts';

export interface RestartableRedis extends PrivateRedis {
  kill(): Promise<void>;
  start(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** `appendOnly`: keep an AOF (fsync always), as production Redis for BullMQ does, so a restart loses no job. */
export async function startRestartableRedis(opts: { appendOnly?: boolean } = {}): Promise<RestartableRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-redis-outage-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  const start = async () => {
    const persistence = opts.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        await sleep(25);
      } finally {
        probe.disconnect();
      }
    }
    throw new Error('redis-server did not start');
  };
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  };
  await start();
  const self: RestartableRedis = {
    url,
    port,
    get process() {
      return child;
    },
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
