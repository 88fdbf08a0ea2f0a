/**
 * The farm's processes as separate hosts would run them, each with its own data directory (no
 * shared disk): redis-server with AOF, API nodes (`lbc-server api`) and workers
 * (`lbc-server worker`), started through a namespace runner such as NetnsLab.spawn.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisAnswers } from '@lbc/core';

const REPO = resolve(import.meta.dirname, '..', '..');

export type Spawner = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

export interface FarmProcess {
  name: string;
  child: ChildProcess;
  dataDir: string;
  log(): string;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

function track(name: string, child: ChildProcess, dataDir: string): FarmProcess {
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const self: FarmProcess = {
    name,
    child,
    dataDir,
    log: () => output,
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (running()) child.kill('SIGTERM');
      if (!(await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]))) await self.kill();
    },
  };
  return self;
}

async function until(what: string, proc: FarmProcess, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${proc.log()}`);
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${proc.name}: ${what} not within ${timeoutMs} ms:\n${proc.log()}`);
}

export function tempDataDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `lbc-${prefix}-`));
}

/** redis-server with AOF (fsync on every write) and noeviction, as the deploy recipes run it. */
export async function startRedisNode(spawnIn: Spawner, opts: { port: number; dataDir: string; reachAt: string }): Promise<FarmProcess> {
  const child = spawnIn(
    'redis-server',
    ['--port', String(opts.port), '--bind', '0.0.0.0', '--protected-mode', 'no', '--dir', opts.dataDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const proc = track('redis', child, opts.dataDir);
  await until('PING', proc, () => redisAnswers(opts.reachAt), 10_000);
  return proc;
}

/** `lbc-server api` listening on 0.0.0.0:port inside its namespace; ready when /readyz answers 200 at reachAt. */
export async function startApiNode(spawnIn: Spawner, opts: { name: string; redisUrl: string; port: number; reachAt: string; dockerHost: string; env?: Record<string, string> }): Promise<FarmProcess> {
  const dataDir = tempDataDir(opts.name);
  const child = spawnIn(process.execPath, ['--import', 'tsx', join(REPO, 'services/farm/src/main.ts'), 'api'], {
    cwd: REPO,
    env: {
      ...process.env,
      REDIS_URL: opts.redisUrl,
      LBC_DATA_DIR: dataDir,
      LBC_HOST: '0.0.0.0',
      LBC_PORT: String(opts.port),
      DOCKER_HOST: opts.dockerHost,
      // The farm sits in private namespaces: no tokens needed.
      LBC_AUTH: 'off',
      LBC_LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(opts.name, child, dataDir);
  await until('/readyz', proc, async () => (await fetch(`${opts.reachAt}/readyz`)).ok, 150_000);
  return proc;
}

/** `lbc-server worker`, as the deploy recipes run it; ready when it logs "lbc worker started". */
export async function startWorkerNode(spawnIn: Spawner, opts: { name: string; redisUrl: string; dockerHost: string; env?: Record<string, string> }): Promise<FarmProcess> {
  const dataDir = tempDataDir(opts.name);
  const child = spawnIn(process.execPath, ['--import', 'tsx', join(REPO, 'services/farm/src/main.ts'), 'worker'], {
    cwd: REPO,
    env: { ...process.env, REDIS_URL: opts.redisUrl, LBC_DATA_DIR: dataDir, DOCKER_HOST: opts.dockerHost, LBC_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(opts.name, child, dataDir);
  await until('ready', proc, async () => proc.log().includes('"msg":"lbc worker started"'), 150_000);
  return proc;
}

export function removeDataDir(proc: FarmProcess | undefined): void {
  if (proc) rmSync(proc.dataDir, { recursive: true, force: true });
}
