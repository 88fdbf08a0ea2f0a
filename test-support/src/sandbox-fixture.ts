/** What the worker tests share: a private Redis holding this host's BTF, and a sandbox built on it. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { Redis } from 'ioredis';
import { DEFAULT_IMAGE, ensureFarmSecret, putSharedBtf, toolchainIdentity, type CompileJobData, type FarmBlobs } from '@lbc/core';
import { DEFAULT_SANDBOX_LIMITS, KernelSetStore, WarmPool, startBlobNode, type BlobNode } from '@lbc/worker';
import { startPrivateRedis, type PrivateRedis } from './redis.ts';

export const HOST_BTF = readFileSync('/sys/kernel/btf/vmlinux');
export const HOST_BTF_SHA = createHash('sha256').update(HOST_BTF).digest('hex');

/** The host's BTF published as an API node does: into a blob node of its own (in dataDir), found by hash. */
export async function registerHostKernel(redis: Redis, dataDir: string): Promise<BlobNode> {
  await ensureFarmSecret(redis);
  const node = await startBlobNode({ redis, dataDir });
  await putSharedBtf(node.blobs, HOST_BTF_SHA, HOST_BTF);
  return node;
}

export interface SandboxFixture {
  docker: Dockerode;
  redis: Redis;
  privateRedis: PrivateRedis;
  dataDir: string;
  toolchain: string;
  kernelSets: KernelSetStore;
  /** The blob store of dataDir (the host's BTF is in it). */
  blobs: FarmBlobs;
  pool: WarmPool;
  job(name: string, source: string, extra?: Partial<CompileJobData>): CompileJobData;
  close(): Promise<void>;
}

export async function startSandboxFixture(opts: { warm?: number } = {}): Promise<SandboxFixture> {
  const docker = new Dockerode();
  const privateRedis = await startPrivateRedis();
  const redis = privateRedis.connect();
  const dataDir = mkdtempSync(join(tmpdir(), 'lbc-worker-test-'));
  const blobNode = await registerHostKernel(redis, dataDir);
  const toolchain = await toolchainIdentity(docker, DEFAULT_IMAGE);
  const limits = { ...DEFAULT_SANDBOX_LIMITS, maxFileBytes: 16 * 1024 * 1024 + 1 };
  const kernelSets = new KernelSetStore({ docker, redis, blobs: blobNode.blobs, image: DEFAULT_IMAGE, toolchain, dataDir, limits });
  const pool = new WarmPool({ docker, image: DEFAULT_IMAGE, jobsDir: join(dataDir, 'jobs'), limits, size: opts.warm ?? 1 });
  return {
    docker,
    redis,
    privateRedis,
    dataDir,
    toolchain,
    kernelSets,
    blobs: blobNode.blobs,
    pool,
    job: (name, source, extra = {}) => ({
      cacheKey: `test-${Math.random().toString(16).slice(2)}`,
      name,
      source,
      includes: {},
      cflags: [],
      btfSha256: HOST_BTF_SHA,
      arch: 'x86_64',
      toolchain,
      ...extra,
    }),
    async close() {
      await pool.close();
      await blobNode.close();
      // Disconnects `redis` before the server goes.
      await privateRedis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
