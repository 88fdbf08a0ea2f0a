/**
 * One report per Redis outage, on real Redis servers: a watched connection (and a BullMQ Queue's
 * 'error' events) log one warning when Redis goes away, one line when it is back, and nothing per
 * reconnect attempt; an error that recurs on every reconnect (a wrong password) is logged once;
 * while the connections are being closed, only at debug level.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createBlockingRedis, freePort, RedisConnectionLog, waitForRedisServer } from '@lbc/core';
import { startRestartableRedis, type RestartableRedis } from '@lbc/test-support/restartable-redis';

type Line = { level: number; msg: string; [k: string]: unknown };

function capture(): { lines: Line[]; log: pino.Logger } {
  const lines: Line[] = [];
  return { lines, log: pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) }) };
}
const named = (lines: Line[], msg: string) => lines.filter((l) => l.msg.startsWith(msg));

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('RedisConnectionLog', () => {
  let redis: RestartableRedis | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it('logs an outage once when it begins and once when it ends, whatever the number of connections and retries', async () => {
    redis = await startRestartableRedis();
    const { lines, log } = capture();
    const connLog = new RedisConnectionLog(log, redis.url);
    const a = createBlockingRedis(redis.url, connLog);
    const b = createBlockingRedis(redis.url, connLog);
    const queue = new Queue(`redis-log-${process.pid}`, { connection: b });
    queue.on('error', connLog.onError);
    await queue.waitUntilReady();
    await a.ping();

    await redis.kill();
    await until('the outage to be noticed', () => connLog.down);
    // ioredis retries every 100, 200, ... ms: several attempts on each connection.
    await sleep(1500);
    await redis.start();
    await until('Redis to be back', () => !connLog.down);
    expect(await a.ping()).toBe('PONG');

    const warnings = named(lines, 'Redis unreachable');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, code: 'LBC_ERR_QUEUE_UNAVAILABLE', redis: redis.url });
    const back = named(lines, 'Redis reachable again');
    expect(back).toHaveLength(1);
    expect(back[0]!.failedAttempts as number).toBeGreaterThan(2);
    expect(back[0]!.downMs as number).toBeGreaterThanOrEqual(1500);
    expect(named(lines, 'Redis error')).toEqual([]);

    // Closing: what the connections say now is the shutdown, at debug level only.
    connLog.close();
    const before = lines.length;
    await redis.kill();
    await sleep(500);
    await queue.close();
    a.disconnect();
    b.disconnect();
    expect(lines.slice(before).filter((l) => l.level > 20)).toEqual([]);
  });

  it('logs an error that recurs on every reconnect (a wrong password) once', async () => {
    const port = await freePort();
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'right'], { stdio: 'ignore' });
    try {
      await waitForRedisServer(`redis://:right@127.0.0.1:${port}`, { timeoutMs: 5000 });
      const { lines, log } = capture();
      const url = `redis://:wrong@127.0.0.1:${port}`;
      const connLog = new RedisConnectionLog(log, url);
      const client = createBlockingRedis(url, connLog);
      await until('three refusals', () => named(lines, 'Redis error').length + named(lines, 'Redis error (again)').length >= 3);
      client.disconnect();
      const errors = named(lines, 'Redis error').filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(JSON.stringify(errors[0])).toMatch(/WRONGPASS/);
      // The password is not in the log.
      expect(JSON.stringify(lines)).not.toMatch(/wrong@/);
    } finally {
      server.kill('SIGKILL');
    }
  });
});
