/**
 * Starts a redis-server of our own on loopback: the launcher's private Redis (REDIS_URL unset) and
 * every test's. A free port is only free until someone binds it, so a server that exits at once
 * (it could not bind) is started again on another port; one that hangs is a real fault.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../free-port.ts';
import { waitForRedisServer } from './redis.ts';

export interface RedisServerOptions {
  /** Where redis-server keeps its files (--dir). */
  dir: string;
  /** Further redis-server arguments: persistence, eviction policy, ... */
  args?: string[];
  /** A fixed port (tried once: restarting a server where clients expect it); default a free one. */
  port?: number;
  /** How long one server may take to answer. */
  timeoutMs?: number;
  /** Free ports tried before giving up. */
  attempts?: number;
  /** Picks the free port; for tests. */
  choosePort?: () => Promise<number>;
}

export interface RedisServer {
  url: string;
  port: number;
  child: ChildProcess;
  /** The end of what the server logged (redis-server logs to stdout), for error messages. */
  log(): string;
}

const LOG_KEPT = 4096;

function lastLines(log: string): string {
  return log.trim().split('\n').slice(-3).join(' / ');
}

export async function spawnRedisServer(opts: RedisServerOptions): Promise<RedisServer> {
  const attempts = opts.port ? 1 : (opts.attempts ?? 5);
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await (opts.choosePort ?? freePort)());
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', opts.dir, ...(opts.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const keep = (c: Buffer) => (log = (log + c.toString('utf8')).slice(-LOG_KEPT));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const failed = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', resolve);
    });
    if (failed) throw failed;
    const url = `redis://127.0.0.1:${port}`;
    const exited = () => (child.exitCode !== null ? `exited with ${child.exitCode}${log.trim() ? `: ${lastLines(log)}` : ''}` : undefined);
    try {
      await waitForRedisServer(url, { timeoutMs: opts.timeoutMs ?? 10_000, exited });
      return { url, port, child, log: () => log };
    } catch (err) {
      if (child.exitCode === null || attempt >= attempts) {
        child.kill('SIGKILL');
        throw err;
      }
    }
  }
}
