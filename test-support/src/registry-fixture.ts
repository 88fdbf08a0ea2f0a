import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { BlobStore, KernelRegistry, openDatabase, type Db, type KernelRegistryOptions } from '@lbc/core';
import { startPrivateRedis, type PrivateRedis } from './redis.ts';

export interface RegistryFixture {
  redis: Redis;
  dir: string;
  db: Db;
  registry: KernelRegistry;
}

/** For a test file or describe: a kernel registry on a private Redis and data dir, made in beforeAll, removed in afterAll. */
export function useRegistry(prefix: string, options?: KernelRegistryOptions): RegistryFixture {
  const env = {} as RegistryFixture;
  let redisServer: PrivateRedis | undefined;
  beforeAll(async () => {
    redisServer = await startPrivateRedis();
    env.redis = new Redis(redisServer.url);
    env.dir = mkdtempSync(join(tmpdir(), prefix));
    env.db = openDatabase(env.dir);
    env.registry = new KernelRegistry(env.db, new BlobStore(join(env.dir, 'blobs')), env.redis, options);
  });
  afterAll(async () => {
    env.redis?.disconnect();
    env.db?.close();
    await redisServer?.stop();
    if (env.dir) rmSync(env.dir, { recursive: true, force: true });
  });
  return env;
}
