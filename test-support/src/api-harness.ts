/** An API app around a private Redis and a throwaway data directory, as the server wires it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { ArtifactCache, BlobStore, CompileProducer, KernelRegistry, lbcHeaderSha256, loadConfig, openDatabase, scanSource, type LbcConfig } from '@lbc/core';
import { buildApp, type ApiApp, type ApiDeps } from '@lbc/api';
import { startPrivateRedis, type PrivateRedis } from './redis.ts';

export interface Harness {
  app: ApiApp;
  config: LbcConfig;
  redis: PrivateRedis;
  producer: CompileProducer;
  registry: KernelRegistry;
  cache: ArtifactCache;
  blobs: BlobStore;
  close(): Promise<void>;
}

export async function startHarness(options: { config?: Partial<LbcConfig>; deps?: Partial<ApiDeps>; redis?: PrivateRedis } = {}): Promise<Harness> {
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

async function assemble(redis: PrivateRedis, dataDir: string, options: { config?: Partial<LbcConfig>; deps?: Partial<ApiDeps>; redis?: PrivateRedis }): Promise<Harness> {
  const config = loadConfig({}, { dataDir, redisUrl: redis.url, ...options.config });
  const db = openDatabase(config.dataDir);
  const blobs = new BlobStore(join(config.dataDir, 'blobs'));
  const cache = new ArtifactCache(db, blobs, config.cacheMaxBytes);
  const producer = new CompileProducer({ redisUrl: redis.url, timeoutMs: config.redisTimeoutMs, maxQueuedJobs: config.maxQueuedJobs, failureTtlSeconds: config.failureTtlSeconds });
  await producer.ready(5000);
  const registry = new KernelRegistry(db, blobs, producer.redis, { guardRedis: (w, what) => producer.guard(w, what) });
  const app = buildApp({ config, cache, registry, producer, toolchain: 'test-toolchain', lbcHeaderSha256: lbcHeaderSha256(), scanSource, docker: new Dockerode(), ...options.deps });
  await app.ready();
  return {
    app,
    config,
    redis,
    producer,
    registry,
    cache,
    blobs,
    async close() {
      await app.close();
      await producer.close();
      db.close();
      if (!options.redis) await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
