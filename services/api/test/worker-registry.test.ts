/**
 * The worker registry in Redis (REDIS_KEYS.workers) and what the farm does with it: the API refuses
 * compiles with 503 LBC_ERR_SANDBOX_UNAVAILABLE when the workers alive cannot run them (engine gone,
 * other compile image), queues them when no worker is alive at all, and a worker leaves a job of
 * another image to a worker that has it instead of burning the job's attempts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Dockerode from 'dockerode';
import type { ErrorBody, KernelInfo } from '@lbc/contract';
import { DEFAULT_IMAGE, liveWorkers, publishWorker, registerHostKernel, removeWorker, toolchainFromWorkers, WORKERS_KEY, type WorkerReport } from '@lbc/core';
import { startWorker, type RunningWorker } from '@lbc/worker';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';

let h: Harness;
let host: KernelInfo;
beforeAll(async () => {
  h = await startHarness();
  host = (await registerHostKernel(h.registry))!;
});
afterAll(async () => {
  await h?.close();
});

const report = (id: string, over: Partial<WorkerReport> = {}): WorkerReport => ({
  id,
  host: `host-${id}`,
  pid: 1,
  toolchain: 'test-toolchain',
  image: DEFAULT_IMAGE,
  dockerOk: true,
  concurrency: 2,
  active: 0,
  ...over,
});

const compile = (tag: string, waitMs = 0) =>
  h.app.inject({
    method: 'POST',
    url: '/v1/compile',
    payload: { name: 'reg', source: `#include "lbc.h"\nchar LICENSE[] SEC("license") = "GPL"; /* ${tag} */\n`, target: { release: host.release, arch: host.arch }, waitMs },
  });

describe('worker registry', () => {
  it('lists workers heard from recently, stamped with Redis time, and forgets stale ones', async () => {
    await publishWorker(h.redisOwner.command, report('a'));
    await publishWorker(h.redisOwner.command, report('b', { dockerOk: false }));
    const live = await liveWorkers(h.redisOwner.command);
    expect(live.map((w) => [w.id, w.dockerOk]).sort()).toEqual([['a', true], ['b', false]]);
    expect(Math.abs(live[0]!.seenMs - Date.now())).toBeLessThan(5000);
    // A report older than the stale window does not count (and a very old one is dropped).
    await h.redisOwner.command.hset(WORKERS_KEY, 'old', `${Date.now() - 3_600_000} ${JSON.stringify(report('old'))}`);
    expect((await liveWorkers(h.redisOwner.command)).map((w) => w.id).sort()).toEqual(['a', 'b']);
    expect(await h.redisOwner.command.hexists(WORKERS_KEY, 'old')).toBe(0);
    expect(await toolchainFromWorkers(h.redisOwner.command, DEFAULT_IMAGE, 0)).toBe('test-toolchain');
    expect(await toolchainFromWorkers(h.redisOwner.command, 'other:image', 0)).toBeUndefined();
    await removeWorker(h.redisOwner.command, 'a');
    await removeWorker(h.redisOwner.command, 'b');
  });

  it('no worker alive: the compile is queued (a worker starting later takes it)', async () => {
    const res = await compile(`queued ${Date.now()}`);
    expect(res.statusCode).toBe(202);
  });

  it("workers alive but none can reach its engine: 503 LBC_ERR_SANDBOX_UNAVAILABLE naming the cause; one recovers: accepted", async () => {
    await publishWorker(h.redisOwner.command, report('x', { dockerOk: false }));
    await publishWorker(h.redisOwner.command, report('y', { dockerOk: false }));
    const refused = await compile(`no engine ${Date.now()}`);
    expect(refused.statusCode).toBe(503);
    const err = (refused.json() as ErrorBody).error;
    expect(err.code).toBe('LBC_ERR_SANDBOX_UNAVAILABLE');
    expect(err.message).toMatch(/2 worker\(s\) alive, none can reach its Docker engine/);
    expect((err.details as { workers: string[] }).workers.sort()).toEqual(['host-x', 'host-y']);

    await publishWorker(h.redisOwner.command, report('y'));
    expect((await compile(`engine back ${Date.now()}`)).statusCode).toBe(202);
    await removeWorker(h.redisOwner.command, 'x');
    await removeWorker(h.redisOwner.command, 'y');
  });

  it('workers alive with another compile image only: 503 naming both identities', async () => {
    await publishWorker(h.redisOwner.command, report('z', { toolchain: 'sha256:other clang 18' }));
    const refused = await compile(`other image ${Date.now()}`);
    expect(refused.statusCode).toBe(503);
    const err = (refused.json() as ErrorBody).error;
    expect(err.message, err.message).toMatch(/none with this API's compile image \(test-toolchain\)/);
    expect(err.details).toMatchObject({ toolchains: ['sha256:other clang 18'] });
    await removeWorker(h.redisOwner.command, 'z');
  });
});

describe('a worker given a job for another compile image', () => {
  let worker: RunningWorker;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lbc-registry-worker-'));
    worker = await startWorker({ redisUrl: h.redis.url, dataDir, concurrency: 1, docker: new Dockerode() });
  });
  afterAll(async () => {
    await worker?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const jobFor = (toolchain: string, tag: string) =>
    h.producer.queue.add('reg', { cacheKey: `${tag}-${Date.now()}`, name: 'reg', source: '', includes: {}, cflags: [], btfSha256: host.btfSha256, arch: host.arch, toolchain }, { attempts: 3, backoff: { type: 'fixed', delay: 100 } });

  it('leaves it, attempts untouched, while a worker with that image is alive', async () => {
    await publishWorker(h.redisOwner.command, report('other', { toolchain: 'other-toolchain' }));
    const job = await jobFor('other-toolchain', 'leave');
    await sleep(2500);
    const state = await job.getState();
    const fresh = (await h.producer.queue.getJob(job.id!))!;
    expect(['waiting', 'delayed', 'active']).toContain(state);
    expect(fresh.attemptsMade).toBe(0);
    await removeWorker(h.redisOwner.command, 'other');
    await job.remove().catch(() => {});
  });

  it('fails it with the mismatch named when no worker has that image', async () => {
    const job = await jobFor('gone-toolchain', 'fail');
    let state = await job.getState();
    for (let i = 0; i < 100 && state !== 'failed'; i++) {
      await sleep(100);
      state = await job.getState();
    }
    expect(state).toBe('failed');
    const fresh = (await h.producer.queue.getJob(job.id!))!;
    expect(fresh.attemptsMade).toBe(3);
    expect(fresh.failedReason).toMatch(/job wants toolchain "gone-toolchain" but this worker has "sha256:/);
  });
});
