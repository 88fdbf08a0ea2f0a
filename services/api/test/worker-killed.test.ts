/**
 * No request is lost when a worker dies: a compile request waiting in the API while its worker is
 * killed with SIGKILL mid-compile is answered 200 once another worker takes the stalled job over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Dockerode from 'dockerode';
import { jobIdFor, type CompileResult, type KernelInfo } from '@lbc/contract';
import { DEFAULT_IMAGE, registerHostKernel, sha256Of, toolchainIdentity } from '@lbc/core';
import { COMPILES_COUNTER, startWorker, type RunningWorker } from '@lbc/worker';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
let h: Harness;
let host: KernelInfo;
let child: ChildProcess | undefined;
let rescuer: RunningWorker | undefined;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lbc-killed-worker-'));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  const docker = new Dockerode();
  h = await startHarness({ deps: { toolchain: await toolchainIdentity(docker, DEFAULT_IMAGE), docker }, listen: true });
  host = (await registerHostKernel(h.registry))!;
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await rescuer?.close();
  await h?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a worker killed mid-compile', () => {
  it('does not lose the waiting request: another worker finishes the job and the API answers 200', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'services/worker/src/main.ts'], {
      cwd: REPO,
      env: { ...process.env, REDIS_URL: h.redis.url, LBC_DATA_DIR: tempDir(), LBC_LOCK_DURATION_MS: '3000', LBC_STALLED_INTERVAL_MS: '1000', LBC_WORKER_CONCURRENCY: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((ready, fail) => {
      child!.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && ready());
      child!.once('exit', (code) => fail(new Error(`worker exited with ${code}`)));
    });

    const source = `#include "lbc.h"\nLBC_HASH(m, u32, u64, 8);\nSEC("tracepoint/sched/sched_process_exec")\nint on_exec(void *ctx) { return 0; /* ${Date.now()} */ }\nchar LICENSE[] SEC("license") = "GPL";\n`;
    const pending = h.app.inject({ method: 'POST', url: '/v1/compile', payload: { name: 'killed', source, target: { release: host.release, arch: host.arch }, waitMs: 60_000 } });

    // The worker's first job also builds the kernel set: there is time to catch it active.
    let jobId: string | undefined;
    for (let i = 0; i < 400 && !jobId; i++) {
      const [job] = await h.producer.queue.getJobs(['active']);
      if (job) jobId = job.id;
      else await new Promise((r) => setTimeout(r, 10));
    }
    expect(jobId).toBeDefined();
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    expect(await h.producer.queue.getJobState(jobId!)).toBe('active');

    rescuer = await startWorker({ redisUrl: h.redis.url, dataDir: tempDir(), concurrency: 1, stalledIntervalMs: 1000, lockDurationMs: 3000 });
    const res = await pending;
    expect(res.statusCode).toBe(200);
    const body = res.json() as CompileResult;
    expect(jobIdFor(body.cacheKey)).toBe(jobId);
    expect(sha256Of((await h.app.inject({ url: body.artifact.url })).rawPayload)).toBe(body.artifact.sha256);
    expect(Number(await h.redisOwner.command.get(COMPILES_COUNTER))).toBe(1);
  });
});
