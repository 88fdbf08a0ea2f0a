/** An API app around a private Redis and a throwaway data directory, as the server wires it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { ArtifactCache, BlobStore, CompileProducer, FarmBlobs, KernelRegistry, RedisOwner, S3Blobs, lbcHeaderSha256, loadConfig, openDatabase, scanSource, type LbcConfig } from '@lbc/core';
import { buildApp, type ApiApp, type ApiDeps } from '@lbc/api';
import { startPrivateRedis, type PrivateRedis } from './redis.ts';

export interface Harness {
  app: ApiApp;
  config: LbcConfig;
  redis: PrivateRedis;
  producer: CompileProducer;
  /** The app's Redis owner (what the server process makes once). */
  redisOwner: RedisOwner;
  registry: KernelRegistry;
  cache: ArtifactCache;
  blobs: BlobStore;
  close(): Promise<void>;
}

/** listen: on a loopback port, as a server does, so workers elsewhere fetch the blobs it holds (the kernels' BTF) by hash. */
export async function startHarness(options: { config?: Partial<LbcConfig>; deps?: Partial<ApiDeps>; redis?: PrivateRedis; listen?: boolean } = {}): Promise<Harness> {
  const redis = options.redis ?? (await startPrivateRedis());
  const dataDir = mkdtempSync(join(tmpdir(), 'lbc-api-'));
  try {
    return await assemble(redis, dataDir, options);
  } catch (err) {
    if (!options.redis) await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function assemble(redis: PrivateRedis, dataDir: string, options: { config?: Partial<LbcConfig>; deps?: Partial<ApiDeps>; redis?: PrivateRedis; listen?: boolean }): Promise<Harness> {
  const config = loadConfig({}, { dataDir, redisUrl: redis.url, ...options.config });
  const db = openDatabase(config.dataDir);
  const blobs = new BlobStore(join(config.dataDir, 'blobs'));
  const cache = new ArtifactCache(db, blobs, config.cacheMaxBytes);
  const redisOwner = new RedisOwner({ url: redis.url, timeoutMs: config.redisTimeoutMs, name: 'lbc-api' });
  const producer = new CompileProducer({ redis: redisOwner, maxQueuedJobs: config.maxQueuedJobs, failureTtlSeconds: config.failureTtlSeconds });
  await producer.ready(5000);
  const farmBlobs = new FarmBlobs({ disk: blobs, redis: redisOwner.command, ...(config.blobS3 ? { s3: new S3Blobs(config.blobS3) } : {}) });
  const registry = new KernelRegistry(db, blobs, redisOwner.command, { guardRedis: (w, what) => redisOwner.guard(w, what), farmBlobs });
  const app = buildApp({ config, cache, registry, producer, redis: redisOwner, toolchain: 'test-toolchain', lbcHeaderSha256: lbcHeaderSha256(), scanSource, docker: new Dockerode(), ...options.deps });
  await app.ready();
  if (options.listen) await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    config,
    redis,
    producer,
    redisOwner,
    registry,
    cache,
    blobs,
    async close() {
      await app.close();
      await producer.close();
      farmBlobs.close();
      redisOwner.close();
      db.close();
      if (!options.redis) await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
