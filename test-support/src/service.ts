/**
 * The real lbc service for end-to-end tests: the all-in-one launcher (API + worker) as a child
 * process on a free port, with a temp data dir and the caller's private Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { freePort } from '@lbc/core';

const REPO = resolve(import.meta.dirname, '..', '..');

export interface RunningService {
  url: string;
  dataDir: string;
  process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  redisUrl: string;
  dataDir?: string;
  env?: Record<string, string>;
  /** A program (and its arguments) to start the launcher through, e.g. `unshare ...`; node and its arguments follow. */
  wrap?: string[];
  /** The service serves HTTPS (env LBC_TLS_CERT/KEY): the CA (PEM) to trust while waiting for it. */
  tlsCa?: string;
}

export async function startService(opts: ServiceOptions): Promise<RunningService> {
  // The free port can be taken by another process between probing and binding: try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !String((err as Error).message).includes('EADDRINUSE')) throw err;
    }
  }
}

async function startOnce(opts: ServiceOptions): Promise<RunningService> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'lbc-e2e-data-'));
  const port = await freePort();
  const [command, ...args] = [...(opts.wrap ?? []), process.execPath, '--import', 'tsx', join(REPO, 'services/farm/src/main.ts')];
  const child = spawn(command!, args, {
    cwd: REPO,
    env: { ...process.env, REDIS_URL: opts.redisUrl, LBC_DATA_DIR: dataDir, LBC_PORT: String(port), LBC_HOST: '127.0.0.1', LBC_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `${opts.tlsCa ? 'https' : 'http'}://127.0.0.1:${port}`;
  const dispatcher = opts.tlsCa ? new Agent({ connect: { ca: opts.tlsCa } }) : undefined;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const exited = await Promise.race([new Promise((r) => child.once('exit', () => r(true))), sleep(10_000).then(() => false)]);
      if (!exited) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
    }
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 150_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`lbc service exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const res = await request(`${url}/readyz`, { dispatcher });
      await res.body.dump();
      if (res.statusCode === 200) {
        await dispatcher?.close();
        return { url, dataDir, process: child, log: () => output, stop };
      }
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await stop();
  throw new Error(`lbc service not ready at ${url} within 150 s:\n${output}`);
}
