/**
 * One describe block's real service: a private Redis, the all-in-one launcher and a temp dir,
 * started in beforeAll and torn down in afterAll. Fields are filled in once beforeAll has run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from './redis.ts';
import { startService, type RunningService } from './service.ts';

export interface ServiceFixture {
  redis: PrivateRedis;
  service: RunningService;
  /** A temp dir for the test's sources and caches, removed afterwards. */
  dir: string;
}

export function useServiceFixture(dirPrefix: string, prepare?: (dir: string) => void): ServiceFixture {
  const env = {} as ServiceFixture;
  beforeAll(async () => {
    env.redis = await startPrivateRedis();
    env.service = await startService({ redisUrl: env.redis.url });
    env.dir = mkdtempSync(join(tmpdir(), dirPrefix));
    prepare?.(env.dir);
  });
  afterAll(async () => {
    await env.service?.stop();
    await env.redis?.stop();
    if (env.dir) rmSync(env.dir, { recursive: true, force: true });
  });
  return env;
}
