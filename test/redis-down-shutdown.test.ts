/**
 * A Redis that goes away is reported, not sprayed: the launcher (API + worker) and the standalone
 * worker log one warning per outage naming LBC_ERR_QUEUE_UNAVAILABLE (not a line per reconnect
 * attempt), one line when Redis is back, and stop cleanly on SIGTERM while Redis is still down —
 * without ioredis ever printing "[ioredis] Unhandled error event".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { KernelInfo } from '@lbc/contract';
import { startRestartableRedis, type RestartableRedis } from '@lbc/test-support/restartable-redis';
import { startService, type RunningService } from '@lbc/test-support/service';

const REPO = resolve(import.meta.dirname, '..');
const UNHANDLED = /Unhandled error event/;
/** Several of ioredis's reconnect attempts (100 ms, 200 ms, ... apart) fit in this. */
const OUTAGE_MS = 2500;

const lines = (log: string, msg: string) => log.split('\n').filter((l) => l.includes(`"msg":"${msg}`));

async function waitFor(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** SIGTERM, then the exit code; null if it had to be killed after `timeoutMs`. */
async function terminate(child: ChildProcess, timeoutMs = 20_000): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(timeoutMs).then(() => 'hung' as const)]);
  if (code !== 'hung') return code;
  child.kill('SIGKILL');
  await exited;
  return null;
}

describe('the launcher (API + worker) while its Redis is down', () => {
  let redis: RestartableRedis | undefined;
  let service: RunningService | undefined;
  afterAll(async () => {
    await service?.stop();
    await redis?.stop();
  });

  it('answers 503 LBC_ERR_QUEUE_UNAVAILABLE, logs the outage once, and stops cleanly on SIGTERM', async () => {
    redis = await startRestartableRedis();
    service = await startService({ redisUrl: redis.url });
    const { kernels } = (await (await fetch(`${service.url}/v1/kernels`)).json()) as { kernels: KernelInfo[] };
    const host = kernels.find((k) => k.source === 'host')!;

    await redis.kill();
    await waitFor('the outage warning', () => lines(service!.log(), 'Redis unreachable').length > 0);
    const res = await fetch(`${service.url}/v1/compile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'down', source: `int x = ${Date.now()};\n`, target: { release: host.release, arch: host.arch } }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('LBC_ERR_QUEUE_UNAVAILABLE');
    await sleep(OUTAGE_MS);

    expect(await terminate(service.process)).toBe(0);
    const log = service.log();
    expect(log).not.toMatch(UNHANDLED);
    // One process, one outage: one warning, whichever of its connections noticed first.
    const warnings = lines(log, 'Redis unreachable');
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, code: 'LBC_ERR_QUEUE_UNAVAILABLE', component: 'redis' });
  }, 240_000);
});

describe('the standalone worker while its Redis comes and goes', () => {
  let redis: RestartableRedis | undefined;
  let child: ChildProcess | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'lbc-redis-down-'));
  afterAll(async () => {
    if (child) await terminate(child, 5000);
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs each outage once and its end once, and stops cleanly on SIGTERM during the second', async () => {
    redis = await startRestartableRedis();
    let stdout = '';
    let stderr = '';
    child = spawn(process.execPath, ['--import', 'tsx', 'services/worker/src/main.ts'], {
      cwd: REPO,
      env: { ...process.env, REDIS_URL: redis.url, LBC_DATA_DIR: dataDir, LBC_WORKER_CONCURRENCY: '1', LBC_WARM_CONTAINERS: '0', LBC_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    await waitFor('the worker to be ready', () => stdout.includes('ready') || child!.exitCode !== null, 120_000);
    expect(child.exitCode).toBeNull();

    await redis.kill();
    await waitFor('the first outage warning', () => lines(stderr, 'Redis unreachable').length === 1);
    await sleep(OUTAGE_MS);
    await redis.start();
    await waitFor('Redis to be reported back', () => lines(stderr, 'Redis reachable again').length === 1);

    await redis.kill();
    await waitFor('the second outage warning', () => lines(stderr, 'Redis unreachable').length === 2);
    await sleep(OUTAGE_MS);
    expect(await terminate(child)).toBe(0);

    expect(stderr + stdout).not.toMatch(UNHANDLED);
    expect(lines(stderr, 'Redis unreachable')).toHaveLength(2);
    expect(lines(stderr, 'Redis reachable again')).toHaveLength(1);
    expect(JSON.parse(lines(stderr, 'Redis reachable again')[0]!)).toMatchObject({ level: 40, failedAttempts: expect.any(Number) });
    expect(JSON.parse(lines(stderr, 'Redis reachable again')[0]!).failedAttempts).toBeGreaterThan(1);
  }, 240_000);
});
