/**
 * The worker through BullMQ with a private Redis: jobs in, results and progress out; compile
 * errors are results, not retries; kernel sets are built once; a worker killed with SIGKILL
 * mid-compile loses its job to another worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents, type Job } from 'bullmq';
import Dockerode from 'dockerode';
import type { Redis } from 'ioredis';
import { jobIdFor, type JobProgress } from '@lbc/contract';
import { COMPILE_QUEUE, DEFAULT_IMAGE, putSharedBtf, toolchainIdentity, type CompileJobData, type CompileJobResult } from '@lbc/core';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { startWorker, type RunningWorker } from '../src/worker.ts';
import { COMPILES_COUNTER } from '../src/stats.ts';
import { HOST_BTF_SHA, registerHostKernel } from '@lbc/test-support/sandbox-fixture';
import type { BlobNode } from '../src/farm/blob-node.ts';
import { TRACE_PROGRAM } from '@lbc/test-support/sample-programs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

let redisServer: PrivateRedis;
let redis: Redis;
/** The host kernel's BTF, held by a blob node of its own (as an API node holds it): workers fetch it by hash. */
let apiBlobs: BlobNode;
let queue: Queue<CompileJobData, CompileJobResult>;
let events: QueueEvents;
let toolchain: string;
const dirs: string[] = [];
const docker = new Dockerode();

const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-worker-test-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  redisServer = await startPrivateRedis();
  // Clients of the test Redis, disconnected by its stop() (closing the queue leaves them open).
  redis = redisServer.connect();
  apiBlobs = await registerHostKernel(redis, dataDir());
  queue = new Queue(COMPILE_QUEUE, { connection: redisServer.connect() });
  events = new QueueEvents(COMPILE_QUEUE, { connection: redisServer.connect() });
  await events.waitUntilReady();
  toolchain = await toolchainIdentity(docker, DEFAULT_IMAGE);
});

afterAll(async () => {
  await apiBlobs?.close();
  await events?.close();
  await queue?.close();
  await redisServer?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let serial = 0;
function jobData(source: string, extra: Partial<CompileJobData> = {}): CompileJobData {
  return {
    cacheKey: `${Date.now()}${serial++}`.padStart(64, '0'),
    name: 'hello',
    source,
    includes: {},
    cflags: [],
    btfSha256: HOST_BTF_SHA,
    arch: 'x86_64',
    toolchain,
    ...extra,
  };
}

async function submit(data: CompileJobData, attempts = 3): Promise<Job<CompileJobData, CompileJobResult>> {
  return queue.add('compile', data, { jobId: jobIdFor(data.cacheKey), attempts, backoff: { type: 'fixed', delay: 200 } });
}

const progressOf = (jobId: string) => {
  const seen: JobProgress[] = [];
  const listener = ({ jobId: id, data }: { jobId: string; data: unknown }) => {
    if (id === jobId) seen.push(data as JobProgress);
  };
  events.on('progress', listener);
  return { seen, stop: () => events.off('progress', listener) };
};

const compiles = async () => Number((await redis.get(COMPILES_COUNTER)) ?? 0);

describe('worker', () => {
  let worker: RunningWorker;
  let dir: string;

  beforeAll(async () => {
    dir = dataDir();
    worker = await startWorker({ redisUrl: redisServer.url, dataDir: dir, concurrency: 2, stalledIntervalMs: 2000, lockDurationMs: 5000 });
  });
  afterAll(async () => {
    await worker?.close();
  });

  it('job in, result out, with progress; the kernel set is built once and reused', async () => {
    const before = await compiles();
    const first = await submit(jobData(TRACE_PROGRAM));
    const progress = progressOf(first.id!);
    let started = performance.now();
    const cold = await first.waitUntilFinished(events, 120_000);
    const coldMs = performance.now() - started;
    progress.stop();
    expect(cold.ok).toBe(true);
    expect(progress.seen.map((p) => p.stage)).toEqual(['kernel-set', 'compiling', 'done']);

    started = performance.now();
    const warm = await (await submit(jobData(TRACE_PROGRAM))).waitUntilFinished(events, 60_000);
    const warmMs = performance.now() - started;
    expect(warm.ok).toBe(true);
    // Same program, same object layout (clang may order BTF types differently between runs, so not the same bytes).
    if (cold.ok && warm.ok) expect(warm.size).toBe(cold.size);
    // One kernel set directory, for this BTF and toolchain.
    expect(readdirSync(join(dir, 'kernelsets'))).toEqual([HOST_BTF_SHA]);
    expect(readdirSync(join(dir, 'kernelsets', HOST_BTF_SHA)).filter((f) => !f.includes('.lock'))).toHaveLength(1);
    expect(warmMs).toBeLessThan(coldMs / 2);
    expect(await compiles()).toBe(before + 2);
    console.log(`through BullMQ: cold (kernel set build + compile) ${coldMs.toFixed(0)} ms, warm ${warmMs.toFixed(0)} ms`);
  });

  it('a compile error is a result, not a retry', async () => {
    const job = await submit(jobData('#include "lbc.h"\nint x = nope;\n'), 3);
    const result = await job.waitUntilFinished(events, 60_000);
    expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE' });
    if (!result.ok) expect(result.diagnostics).toMatch(/^hello\.bpf\.c:2:9: error/m);
    const after = await queue.getJob(job.id!);
    expect(after?.attemptsMade).toBe(1);
    expect(await after?.getState()).toBe('completed');
  });

  it('a job for another toolchain is refused with a clear error', async () => {
    const job = await submit(jobData(TRACE_PROGRAM, { toolchain: 'sha256:0000 clang 1.0' }), 1);
    await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/toolchain "sha256:0000 clang 1.0" but this worker has/);
  });

  it('BTF that bpftool cannot read fails the job at once (no retries): LBC_ERR_BTF_INVALID', async () => {
    const garbage = Buffer.from('this is not BTF at all');
    const sha = createHash('sha256').update(garbage).digest('hex');
    await putSharedBtf(apiBlobs.blobs, sha, garbage);
    const job = await submit(jobData(TRACE_PROGRAM, { btfSha256: sha }), 3);
    await expect(job.waitUntilFinished(events, 60_000)).rejects.toThrow(/LBC_ERR_BTF_INVALID/);
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);
  });

  it('a kernel whose BTF is in no node\'s blob store fails the attempt (infrastructure), so BullMQ retries it', async () => {
    const job = await submit(jobData(TRACE_PROGRAM, { btfSha256: 'f'.repeat(64) }), 2);
    await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/LBC_ERR_KERNEL_UNKNOWN|in no node's blob store/);
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(2);
  });
});

function startStandalone(env: Record<string, string>): Promise<ChildProcess> {
  const worker = spawn(process.execPath, ['--import', 'tsx', 'services/worker/src/main.ts'], {
    cwd: REPO,
    env: { ...process.env, REDIS_URL: redisServer.url, LBC_DATA_DIR: dataDir(), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ready, fail) => {
    worker.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && ready(worker));
    worker.once('exit', (code) => fail(new Error(`worker exited with ${code}`)));
  });
}

describe('the standalone worker process', () => {
  it('serves jobs and exits cleanly on SIGTERM, leaving no container behind', async () => {
    const child = await startStandalone({ LBC_WORKER_CONCURRENCY: '1', LBC_WARM_CONTAINERS: '1' });
    const result = await (await submit(jobData(TRACE_PROGRAM))).waitUntilFinished(events, 60_000);
    expect(result.ok).toBe(true);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await docker.listContainers({ all: true, filters: { label: [`lbc.owner.pid=${child.pid}`] } })).toEqual([]);
  });
});

describe('a worker killed with SIGKILL mid-compile', () => {
  let child: ChildProcess | undefined;
  let rescuer: RunningWorker | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await rescuer?.close();
  });

  it('loses the job to another worker, which finishes it and clears the dead worker\'s containers', async () => {
    child = await startStandalone({ LBC_LOCK_DURATION_MS: '3000', LBC_STALLED_INTERVAL_MS: '2000', LBC_WORKER_CONCURRENCY: '1' });

    const job = await submit(jobData(TRACE_PROGRAM));
    // Kill the moment the standalone worker reports it is compiling.
    await new Promise<void>((compiling) => {
      const listener = ({ jobId, data }: { jobId: string; data: unknown }) => {
        if (jobId === job.id && (data as JobProgress).stage === 'compiling') {
          events.off('progress', listener);
          compiling();
        }
      };
      events.on('progress', listener);
    });
    const pid = child.pid!;
    // ...and once its compile container is up, so there is something to leave behind.
    const mine = { all: true, filters: { label: [`lbc.owner.pid=${pid}`, 'lbc.role=compile'] } };
    for (let i = 0; i < 100 && (await docker.listContainers(mine)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    expect(await job.getState()).toBe('active');
    const orphans = await docker.listContainers({ all: true, filters: { label: [`lbc.owner.pid=${pid}`] } });
    expect(orphans.length).toBeGreaterThan(0);

    rescuer = await startWorker({ redisUrl: redisServer.url, dataDir: dataDir(), concurrency: 1, stalledIntervalMs: 1000, lockDurationMs: 3000, leftoverSweepMs: 500 });
    const result = await job.waitUntilFinished(events, 60_000);
    expect(result.ok).toBe(true);
    // Swept at start, and again for a container whose creation was still in flight at the kill.
    let left = await docker.listContainers({ all: true, filters: { label: [`lbc.owner.pid=${pid}`] } });
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      left = await docker.listContainers({ all: true, filters: { label: [`lbc.owner.pid=${pid}`] } });
    }
    expect(left).toEqual([]);
  });
});
