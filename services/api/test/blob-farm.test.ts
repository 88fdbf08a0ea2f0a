/**
 * Objects travel one way, by hash: the worker publishes an object once in the farm blob store and
 * the job result carries its reference; any API node serves it by hash — from the worker's host
 * (Redis holding where it is, never its bytes), or from an S3-compatible store (s3rver here) that
 * outlives every node.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdFor, type CompileResult } from '@lbc/contract';
import { redisKey, registerHostKernel, sha256Of, type CompileJobResult } from '@lbc/core';
import { startFarm, type Farm } from '@lbc/test-support/api-farm';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';
import { startS3Server, type S3Server } from '@lbc/test-support/s3-server';

const PROGRAM = (tag: string) => `#include "lbc.h"
LBC_ARRAY(hits, u64, 1);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) {
  u32 k = 0; u64 *v = bpf_map_lookup_elem(&hits, &k);
  if (v) __sync_fetch_and_add(v, 1);
  return 0; /* ${tag} */
}
char LICENSE[] SEC("license") = "GPL";
`;

const compileOn = (node: Harness, farm: Farm, source: string, extra: Record<string, unknown> = {}) =>
  node.app.inject({ method: 'POST', url: '/v1/compile', payload: { name: 'blobs', source, target: { release: farm.host.release, arch: farm.host.arch }, waitMs: 120_000, ...extra } });

async function download(node: Harness, url: string): Promise<Buffer> {
  const res = await node.app.inject({ url });
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return res.rawPayload;
}

/** Every key Redis holds is small: no object, min-BTF or kernel BTF bytes in it; and every location record expires. */
async function assertNoBlobsInRedis(farm: Farm, bytes: Buffer[]) {
  const redis = farm.redisOwner.command;
  for (const key of await redis.keys('*')) {
    expect(Number(await redis.memory('USAGE', key)), key).toBeLessThan(16 * 1024);
    if (key.startsWith(redisKey.blobLocation(''))) expect(await redis.ttl(key), key).toBeGreaterThan(0);
    if ((await redis.type(key)) !== 'string') continue;
    const value = await redis.getBuffer(key);
    for (const b of bytes) expect(value?.includes(b.subarray(0, 64)), key).toBe(false);
  }
}

describe('objects by hash across nodes (each node its own disk)', () => {
  let farm: Farm;
  let nodeB: Harness;
  beforeAll(async () => {
    farm = await startFarm();
    nodeB = await startHarness({ redis: farm.redis, deps: { toolchain: farm.worker.toolchain }, listen: true });
    // Each API node keeps its own kernel list (SQLite): B registers the host's, as a server does on start.
    await registerHostKernel(nodeB.registry);
  }, 180_000);
  afterAll(async () => {
    await nodeB?.close();
    await farm?.close();
  });

  it('compiled by the worker on host A, served by API node B by hash; the job result and Redis carry references only', async () => {
    const res = await compileOn(farm, farm, PROGRAM('across'), { minBtf: true });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as CompileResult;
    expect(body.minBtf).toBeDefined();

    const job = await farm.producer.getJob(jobIdFor(body.cacheKey));
    const result = job!.returnvalue as CompileJobResult;
    expect(result).toMatchObject({ ok: true, sha256: body.artifact.sha256, size: body.artifact.size, minBtf: { sha256: body.minBtf!.sha256, size: body.minBtf!.size } });
    expect(JSON.stringify(result).length).toBeLessThan(1024);

    // The worker's host holds the object; node B has never seen it.
    expect(farm.worker.blobs.disk.read(body.artifact.sha256).status).toBe('ok');
    expect(await farm.redisOwner.command.scard(redisKey.blobLocation(body.artifact.sha256))).toBeGreaterThan(0);
    expect(nodeB.cache.readBySha(body.artifact.sha256)).toBeNull();
    expect(nodeB.blobs.has(body.artifact.sha256)).toBe(false);
    const object = await download(nodeB, body.artifact.url);
    expect(sha256Of(object)).toBe(body.artifact.sha256);
    const minBtf = await download(nodeB, body.minBtf!.url);
    expect(sha256Of(minBtf)).toBe(body.minBtf!.sha256);
    await assertNoBlobsInRedis(farm, [object, minBtf]);

    // The same request on node B: the same answer (a cache hit there), without a compile.
    const again = await compileOn(nodeB, farm, PROGRAM('across'), { minBtf: true });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...body, cached: true, kernel: { ...body.kernel, createdAt: expect.any(String) } });
  });

  it('a corrupt copy on node B is dropped and fetched again from the worker; with no intact copy anywhere it is refused (LBC_ERR_ARTIFACT_NOT_FOUND)', async () => {
    const res = await compileOn(farm, farm, PROGRAM('corrupt'));
    const body = res.json() as CompileResult;
    await download(nodeB, body.artifact.url);
    const onB = nodeB.blobs.pathOf(body.artifact.sha256);
    writeFileSync(onB, 'garbage');
    expect(sha256Of(await download(nodeB, body.artifact.url))).toBe(body.artifact.sha256);

    // Corrupt everywhere: every node drops its copy and none is served.
    for (const path of [onB, farm.blobs.pathOf(body.artifact.sha256), farm.worker.blobs.disk.pathOf(body.artifact.sha256)]) writeFileSync(path, 'garbage');
    const refused = await nodeB.app.inject({ url: body.artifact.url });
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toMatchObject({ error: { code: 'LBC_ERR_ARTIFACT_NOT_FOUND' } });
    expect(await farm.redisOwner.command.scard(redisKey.blobLocation(body.artifact.sha256))).toBe(0);
    // The finished job still names the lost object: the next request compiles it again.
    const again = await compileOn(nodeB, farm, PROGRAM('corrupt'));
    expect(again.statusCode, again.body).toBe(200);
    expect(sha256Of(await download(nodeB, body.artifact.url))).toBe(body.artifact.sha256);
  });

  it('a location record that lapsed: node B finds no holder and compiles the object again; the new record expires too', async () => {
    const res = await compileOn(farm, farm, PROGRAM('lapsed'));
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as CompileResult;
    const record = redisKey.blobLocation(body.artifact.sha256);
    const redis = farm.redisOwner.command;
    expect(await redis.ttl(record)).toBeGreaterThan(0);
    const job = await farm.producer.getJob(jobIdFor(body.cacheKey));
    const finishedOn = job!.finishedOn;
    // As if its time had run out (the holders still have their copies: nobody is asked for them).
    await redis.del(record);
    const refused = await nodeB.app.inject({ url: body.artifact.url });
    expect(refused.statusCode).toBe(404);
    const again = await compileOn(nodeB, farm, PROGRAM('lapsed'));
    expect(again.statusCode, again.body).toBe(200);
    expect((again.json() as CompileResult).artifact.sha256).toBe(body.artifact.sha256);
    // Compiled again (a new job), and the object is on record again, with a bounded life.
    expect((await farm.producer.getJob(jobIdFor(body.cacheKey)))!.finishedOn).toBeGreaterThan(finishedOn!);
    expect(await redis.ttl(record)).toBeGreaterThan(0);
    expect(sha256Of(await download(nodeB, body.artifact.url))).toBe(body.artifact.sha256);
  });
});

describe('objects in an S3-compatible store', () => {
  let s3: S3Server;
  let farm: Farm;
  beforeAll(async () => {
    s3 = await startS3Server();
    farm = await startFarm({ config: { blobS3: s3.settings } });
  }, 180_000);
  afterAll(async () => {
    await farm?.close();
    await s3?.stop();
  });

  it('compile, serve, restart the nodes (new disks, no worker), serve again from the bucket', async () => {
    const res = await compileOn(farm, farm, PROGRAM('s3'), { minBtf: true });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as CompileResult;
    const object = await download(farm, body.artifact.url);
    expect(sha256Of(object)).toBe(body.artifact.sha256);
    // No location records in S3 mode: the bucket is where every node looks.
    expect(await farm.redisOwner.command.exists(redisKey.blobLocation(body.artifact.sha256))).toBe(0);
    expect(await farm.redisOwner.command.exists(redisKey.compiledRef(body.cacheKey))).toBe(1);

    // Every node goes; a new API node with an empty disk comes, on the same Redis and bucket.
    await farm.worker.close();
    const redis = farm.redis;
    const fresh = await startHarness({ redis, config: { blobS3: s3.settings }, deps: { toolchain: farm.worker.toolchain } });
    try {
      expect(sha256Of(await download(fresh, body.artifact.url))).toBe(body.artifact.sha256);
      expect(sha256Of(await download(fresh, body.minBtf!.url))).toBe(body.minBtf!.sha256);
      // Its kernel is registered anew (the host's): the same request answers from the bucket without a worker.
      await registerHostKernel(fresh.registry);
      const again = await compileOn(fresh, farm, PROGRAM('s3'), { minBtf: true });
      expect(again.statusCode, again.body).toBe(200);
      expect(again.json()).toEqual({ ...body, cached: true, kernel: { ...body.kernel, createdAt: expect.any(String) } });
    } finally {
      await fresh.close();
    }
  });
});
