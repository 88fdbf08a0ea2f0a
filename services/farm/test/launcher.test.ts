/**
 * `npm start` as a user runs it: `lbc-server` (mode all) with no REDIS_URL starts its own
 * redis-server under the data directory, registers the host kernel, serves and compiles, and on
 * SIGTERM stops cleanly, taking its redis-server with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompileResult, KernelInfo } from '@lbc/contract';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'lbc-launcher-'));
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  // A failed run must not leave the launcher's redis-server behind.
  const pidFile = join(dataDir, 'redis', 'launcher-redis.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('lbc-server all', () => {
  it('starts everything from nothing, compiles, and shuts down cleanly on SIGTERM', async () => {
    const port = 30000 + Math.floor(Math.random() * 20000);
    const env: NodeJS.ProcessEnv = { ...process.env, LBC_DATA_DIR: dataDir, LBC_PORT: String(port), LBC_LOG_LEVEL: 'info' };
    delete env.REDIS_URL;
    child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c));
    child.stderr!.on('data', (c: Buffer) => (out += c));
    const base = `http://127.0.0.1:${port}`;
    let ready = false;
    for (let i = 0; i < 1200 && !ready; i++) {
      if (child.exitCode !== null) throw new Error(`lbc-server exited with ${child.exitCode}:\n${out}`);
      try {
        ready = (await fetch(`${base}/readyz`)).status === 200;
      } catch {
        // not listening yet
      }
      if (!ready) await sleep(50);
    }
    expect(ready).toBe(true);
    expect(out).toMatch(/started a private redis-server/);
    expect(out).toMatch(/lbc worker started/);
    const redisPid = Number(readFileSync(join(dataDir, 'redis', 'launcher-redis.pid'), 'utf8'));
    expect(alive(redisPid)).toBe(true);
    expect(existsSync(join(dataDir, 'lbc.sqlite'))).toBe(true);

    const { kernels } = (await (await fetch(`${base}/v1/kernels`)).json()) as { kernels: KernelInfo[] };
    const host = kernels.find((k) => k.source === 'host')!;
    const res = await fetch(`${base}/v1/compile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'launcher',
        source: '#include "lbc.h"\nSEC("tracepoint/sched/sched_process_exec")\nint on_exec(void *ctx) { return 0; }\nchar LICENSE[] SEC("license") = "GPL";\n',
        target: { release: host.release, arch: host.arch },
        waitMs: 60_000,
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as CompileResult;
    expect((await fetch(`${base}${body.artifact.url}`)).status).toBe(200);

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (let i = 0; i < 40 && alive(redisPid); i++) await sleep(50);
    expect(alive(redisPid)).toBe(false);
  });
});
