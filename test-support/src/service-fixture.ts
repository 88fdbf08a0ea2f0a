/**
 * One describe block's real service: a private Redis, the all-in-one launcher and a temp dir,
 * started in beforeAll and torn down in afterAll. Fields are filled in once beforeAll has run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from './redis.ts';
import { startService, type RunningService, type ServiceOptions } from './service.ts';

export interface ServiceFixture<R extends PrivateRedis = PrivateRedis> {
  redis: R;
  service: RunningService;
  /** A temp dir for the test's sources and caches, removed afterwards. */
  dir: string;
}

/**
 * `startRedis`: another private Redis than the default (one the test can restart, say);
 * `serviceOptions`: the service's environment and launcher wrap (startService).
 */
export function useServiceFixture<R extends PrivateRedis = PrivateRedis>(
  dirPrefix: string,
  prepare?: (dir: string) => void,
  startRedis: () => Promise<R> = startPrivateRedis as () => Promise<R>,
  serviceOptions: Omit<ServiceOptions, 'redisUrl'> = {},
): ServiceFixture<R> {
  const env = {} as ServiceFixture<R>;
  beforeAll(async () => {
    env.redis = await startRedis();
    env.service = await startService({ ...serviceOptions, redisUrl: env.redis.url });
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
