import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '@lbc/contract';
import { loadConfig } from '@lbc/core';

describe('config', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ dataDir: resolve('.data'), redisUrl: undefined, port: 8080, host: '127.0.0.1', workerConcurrency: 2, limits: DEFAULT_LIMITS, logLevel: 'info' });
  });

  it('reads the environment, limits included, and flags override it', () => {
    const c = loadConfig(
      { LBC_DATA_DIR: 'some/dir', REDIS_URL: 'redis://r:6379', LBC_PORT: '9000', LBC_WORKER_CONCURRENCY: '4', LBC_CACHE_MAX_BYTES: '1000', LBC_LIMIT_MAX_SOURCE_BYTES: '1024', LBC_LIMIT_MAX_WAIT_MS: '5000' },
      { port: 9100 },
    );
    expect(c).toMatchObject({ dataDir: resolve('some/dir'), redisUrl: 'redis://r:6379', port: 9100, workerConcurrency: 4, cacheMaxBytes: 1000 });
    expect(c.limits).toEqual({ ...DEFAULT_LIMITS, maxSourceBytes: 1024, maxWaitMs: 5000 });
  });

  it('names the variable when a number is not one', () => {
    expect(() => loadConfig({ LBC_PORT: 'eighty' })).toThrow(/LBC_PORT/);
    expect(() => loadConfig({ LBC_LIMIT_MAX_BTF_BYTES: '-1' })).toThrow(/LBC_LIMIT_MAX_BTF_BYTES/);
  });

  it('reads the security settings, with safe defaults, and names a bad value', () => {
    expect(loadConfig({})).toMatchObject({ loopbackAdmin: false, metricsAccess: 'admin', cacheScope: 'shared', bodyTimeoutMs: 60_000, headersTimeoutMs: 10_000, maxConnectionsPerClient: 128 });
    const c = loadConfig({ LBC_LOOPBACK_ADMIN: '1', LBC_METRICS_ACCESS: 'public', LBC_CACHE_SCOPE: 'tenant', LBC_BODY_TIMEOUT_MS: '2000', LBC_MAX_CONNECTIONS_PER_CLIENT: '0', LBC_KERNEL_SET_CPU_SECONDS: '5' });
    expect(c).toMatchObject({ loopbackAdmin: true, metricsAccess: 'public', cacheScope: 'tenant', bodyTimeoutMs: 2000, maxConnectionsPerClient: 0, kernelSetCpuSeconds: 5 });
    expect(() => loadConfig({ LBC_METRICS_ACCESS: 'everyone' })).toThrow(/LBC_METRICS_ACCESS must be one of admin, tenant, public/);
    expect(() => loadConfig({ LBC_CACHE_SCOPE: 'private' })).toThrow(/LBC_CACHE_SCOPE/);
    expect(() => loadConfig({ LBC_LOOPBACK_ADMIN: 'yes' })).toThrow(/LBC_LOOPBACK_ADMIN must be 1 or 0/);
  });
});
