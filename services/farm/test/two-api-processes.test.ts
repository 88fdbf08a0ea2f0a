/**
 * Two API processes (`lbc-server api`, real sockets, started with tsx) on one Redis and one data
 * directory share the queue and the cache: identical requests sent to both compile once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileResult } from '@lbc/contract';
import { COMPILES_COUNTER, startWorker, type RunningWorker } from '@lbc/worker';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface ApiProcess {
  child: ChildProcess;
  base: string;
  output: () => string;
}

let redisServer: PrivateRedis;
let redis: Redis;
let dataDir: string;
let workerDir: string;
let worker: RunningWorker;
const apis: ApiProcess[] = [];

async function startApi(port: number): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'api', '--port', String(port), '--data-dir', dataDir, '--redis-url', redisServer.url, '--log-level', 'warn'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c));
  child.stderr!.on('data', (c: Buffer) => (out += c));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`lbc-server api exited with ${child.exitCode}:\n${out}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base, output: () => out };
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`lbc-server api did not listen on ${base}:\n${out}`);
}

beforeAll(async () => {
  redisServer = await startPrivateRedis();
  redis = new Redis(redisServer.url);
  dataDir = mkdtempSync(join(tmpdir(), 'lbc-two-apis-'));
  workerDir = mkdtempSync(join(tmpdir(), 'lbc-two-apis-worker-'));
  const port = 30000 + Math.floor(Math.random() * 20000);
  apis.push(...(await Promise.all([startApi(port), startApi(port + 1)])));
  worker = await startWorker({ redisUrl: redisServer.url, dataDir: workerDir, concurrency: 2, docker: new Dockerode() });
});
afterAll(async () => {
  for (const api of apis) {
    if (api.child.exitCode === null) {
      const exited = new Promise((r) => api.child.once('exit', r));
      api.child.kill('SIGTERM');
      await exited;
    }
  }
  await worker?.close();
  redis?.disconnect();
  await redisServer?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(workerDir, { recursive: true, force: true });
});

const SOURCE = `#include "lbc.h"
LBC_HASH(seen, u32, u64, 16);
SEC("tracepoint/sched/sched_process_exit")
int on_exit(void *ctx) { u32 pid = bpf_get_current_pid_tgid() >> 32; u64 one = 1; bpf_map_update_elem(&seen, &pid, &one, BPF_ANY); return 0; /* ${Date.now()} */ }
char LICENSE[] SEC("license") = "GPL";
`;

async function post(base: string, body: unknown): Promise<{ status: number; json: CompileResult }> {
  const res = await fetch(`${base}/v1/compile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as CompileResult };
}

describe('two API processes', () => {
  it('share one queue and one cache: 20 identical requests split over both compile once', async () => {
    const kernels = (await (await fetch(`${apis[0]!.base}/v1/kernels`)).json()) as { kernels: { source: string; release: string; arch: string }[] };
    const host = kernels.kernels.find((k) => k.source === 'host')!;
    expect(host).toBeDefined();
    const body = { name: 'twoapis', source: SOURCE, target: { release: host.release, arch: host.arch }, waitMs: 60_000 };
    const before = Number((await redis.get(COMPILES_COUNTER)) ?? 0);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(apis[i % 2]!.base, body)));
    expect(answers.map((a) => (a.status === 200 ? 200 : JSON.stringify(a.json)))).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.json.artifact.sha256)).size).toBe(1);
    expect(Number(await redis.get(COMPILES_COUNTER))).toBe(before + 1);

    // What one process stored, the other serves from the shared data directory.
    const sha = answers[0]!.json.artifact.sha256;
    for (const api of apis) expect((await fetch(`${api.base}/v1/artifacts/${sha}`)).status).toBe(200);
    const again = await post(apis[1]!.base, body);
    expect(again.json.cached).toBe(true);
  });
});
