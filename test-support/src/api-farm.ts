/** The API harness plus a real in-process worker on the real Docker engine: the farm end to end. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { KernelInfo } from '@lbc/contract';
import { DEFAULT_IMAGE, registerHostKernel, toolchainIdentity, type LbcConfig } from '@lbc/core';
import { startWorker, type RunningWorker } from '@lbc/worker';
import type { ApiDeps } from '@lbc/api';
import { startHarness, type Harness } from './api-harness.ts';
import type { PrivateRedis } from './redis.ts';

export interface Farm extends Harness {
  worker: RunningWorker;
  host: KernelInfo;
  workerDataDir: string;
}

export async function startFarm(options: { config?: Partial<LbcConfig>; redis?: PrivateRedis; deps?: Partial<ApiDeps> } = {}): Promise<Farm> {
  const docker = new Dockerode();
  const toolchain = await toolchainIdentity(docker, DEFAULT_IMAGE);
  const h = await startHarness({ config: options.config, deps: { toolchain, docker, ...options.deps }, redis: options.redis, listen: true });
  const host = (await registerHostKernel(h.registry))!;
  const workerDataDir = mkdtempSync(join(tmpdir(), 'lbc-farm-worker-'));
  const worker = await startWorker({ redisUrl: h.redis.url, dataDir: workerDataDir, concurrency: 2, docker, ...(h.config.blobS3 ? { blobS3: h.config.blobS3 } : {}) });
  return {
    ...h,
    worker,
    host,
    workerDataDir,
    async close() {
      await worker.close();
      await h.close();
      rmSync(workerDataDir, { recursive: true, force: true });
    },
  };
}
