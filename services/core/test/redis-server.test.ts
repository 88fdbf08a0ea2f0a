// spawnRedisServer (core/redis-server.ts): the launcher's private Redis and every test's. A free
// port can be taken before redis-server binds it; the server then exits at once and another port
// is tried.
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, redisAnswers, spawnRedisServer, type RedisServer } from '../src/index.ts';

const started: RedisServer[] = [];
const dirs: string[] = [];
const servers: Server[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-redis-server-'));
  dirs.push(dir);
  return dir;
}

/** A loopback port held by another listener, as a racing process would hold it. */
async function takenPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

afterEach(async () => {
  for (const s of started.splice(0)) {
    s.child.kill('SIGKILL');
    await new Promise((r) => (s.child.exitCode !== null || s.child.signalCode !== null ? r(null) : s.child.once('exit', r)));
  }
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('spawnRedisServer', () => {
  it('starts on a free loopback port and answers', async () => {
    const server = await spawnRedisServer({ dir: tempDir(), args: ['--save', ''] });
    started.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await redisAnswers(server.url)).toBe(true);
  });

  it('a port taken before redis-server binds it: another port is tried and the server answers there', async () => {
    const taken = await takenPort();
    const tried: number[] = [];
    const server = await spawnRedisServer({
      dir: tempDir(),
      args: ['--save', ''],
      choosePort: async () => {
        const port = tried.length === 0 ? taken : await freePort();
        tried.push(port);
        return port;
      },
    });
    started.push(server);
    expect(tried[0]).toBe(taken);
    expect(tried).toHaveLength(2);
    expect(server.port).toBe(tried[1]);
    expect(await redisAnswers(server.url)).toBe(true);
  });

  it('gives up after the attempts allowed, with what redis-server said', async () => {
    const taken = await takenPort();
    let calls = 0;
    const starting = spawnRedisServer({
      dir: tempDir(),
      attempts: 3,
      choosePort: async () => {
        calls++;
        return taken;
      },
    });
    await expect(starting).rejects.toThrow(/exited with 1: .*Address already in use/);
    expect(calls).toBe(3);
  });

  it('a fixed port is tried once: a restart must come back where its clients are', async () => {
    const taken = await takenPort();
    await expect(spawnRedisServer({ dir: tempDir(), port: taken })).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${taken}: bind: Address already in use`));
  });

  it('without redis-server on PATH: the spawn error, ENOENT, at once', async () => {
    const path = process.env.PATH;
    process.env.PATH = tempDir();
    try {
      await expect(spawnRedisServer({ dir: tempDir() })).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      process.env.PATH = path;
    }
  });
});
