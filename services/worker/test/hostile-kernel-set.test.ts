/**
 * Uploaded BTF built into a kernel set (bpftool btf dump, clang's PCH) is attacker-shaped input for
 * the tools: a 53-byte BTF whose two typedefs name each other makes bpftool spin. The attack, and
 * the refusal: the tool is stopped at its CPU limit, the failure names the cause, and it is
 * remembered for that kernel so later requests are refused at once instead of spinning again.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtfWriter } from '@lbc/btf';
import { BlobStore, DEFAULT_IMAGE, FarmBlobs, kernelSetFailure, putSharedBtf, toolchainIdentity } from '@lbc/core';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { caught } from '@lbc/test-support/caught';
import { KernelSetStore } from '../src/kernel-set/kernel-set.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../src/sandbox/hardening.ts';

const CPU_SECONDS = 3;

function typedefLoop(): Buffer {
  const w = new BtfWriter();
  w.typedef('a', 2);
  w.typedef('b', 1);
  return w.build();
}

describe('a kernel set built from a BTF that makes bpftool spin', () => {
  let redis: PrivateRedis;
  let dataDir: string;
  let store: KernelSetStore;
  let toolchain: string;
  const btf = typedefLoop();
  const sha = createHash('sha256').update(btf).digest('hex');
  beforeAll(async () => {
    redis = await startPrivateRedis();
    dataDir = mkdtempSync(join(tmpdir(), 'lbc-kset-hostile-'));
    const docker = new Dockerode();
    toolchain = await toolchainIdentity(docker, DEFAULT_IMAGE);
    const client = redis.connect();
    const blobs = new FarmBlobs({ disk: new BlobStore(join(dataDir, 'blobs')), redis: client });
    await putSharedBtf(blobs, sha, btf);
    store = new KernelSetStore({ docker, redis: client, blobs, image: DEFAULT_IMAGE, toolchain, dataDir, limits: DEFAULT_SANDBOX_LIMITS, buildCpuSeconds: CPU_SECONDS, buildTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is stopped at its CPU limit with LBC_ERR_KERNEL_SET_FAILED naming the cause, and the failure is remembered: the next request is refused without running bpftool', async () => {
    const started = performance.now();
    const first = await caught(() => store.ensure(sha));
    const firstMs = performance.now() - started;
    expect(first.code).toBe('LBC_ERR_KERNEL_SET_FAILED');
    expect(first.message).toMatch(new RegExp(`bpftool btf dump of kernel ${sha} used its ${CPU_SECONDS} s of CPU`));
    expect(firstMs).toBeLessThan(CPU_SECONDS * 1000 + 15_000);
    console.log(`typedef-loop BTF (${btf.length} bytes): bpftool stopped after ${Math.round(firstMs)} ms (CPU limit ${CPU_SECONDS} s)`);

    const again = performance.now();
    const second = await caught(() => store.ensure(sha));
    expect(second.code).toBe('LBC_ERR_KERNEL_SET_FAILED');
    expect(second.message).toBe(first.message);
    expect(second.details).toMatchObject({ remembered: true });
    expect(performance.now() - again).toBeLessThan(500);
    expect((await kernelSetFailure(redis.connect(), sha, toolchain))?.code).toBe('LBC_ERR_KERNEL_SET_FAILED');
  });
});
