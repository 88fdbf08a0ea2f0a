import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'bullmq';
import type { ErrorBody } from '@lbc/contract';
import { COMPILE_QUEUE, type CompileJobResult } from '@lbc/core';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { bearer, startAuthHarness, type AuthHarness } from '@lbc/test-support/auth-harness';

const errorOf = (res: { json(): unknown }) => (res.json() as ErrorBody).error;

describe('per-tenant rate limit', () => {
  let a: AuthHarness;
  let b: AuthHarness;
  beforeAll(async () => {
    a = await startAuthHarness({ authMode: 'loopback', rateLimitPerMinute: 3, metricsAccess: 'tenant' });
    // A second API node on the same Redis: one budget per tenant across the farm.
    b = await startAuthHarness({ authMode: 'loopback', rateLimitPerMinute: 3 }, a.redis);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('past the limit a tenant gets 429 LBC_ERR_RATE_LIMITED with Retry-After, on every node; other tenants are unaffected', async () => {
    const aliceA = a.tokens.create({ tenant: 'alice' }).token;
    const aliceB = b.tokens.create({ tenant: 'alice' }).token;
    const bob = a.tokens.create({ tenant: 'bob' }).token;
    for (let i = 0; i < 2; i++) expect((await a.app.inject({ url: '/v1/kernels', headers: bearer(aliceA) })).statusCode).toBe(200);
    expect((await b.app.inject({ url: '/v1/kernels', headers: bearer(aliceB) })).statusCode).toBe(200);
    // Probes do not count.
    expect((await a.app.inject({ url: '/healthz', headers: bearer(aliceA) })).statusCode).toBe(200);

    for (const [app, token] of [[a.app, aliceA], [b.app, aliceB]] as const) {
      const limited = await app.inject({ url: '/v1/kernels', headers: bearer(token) });
      expect(limited.statusCode).toBe(429);
      expect(errorOf(limited).code).toBe('LBC_ERR_RATE_LIMITED');
      expect(errorOf(limited).message).toContain('tenant alice');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(errorOf(limited).details).toMatchObject({ tenant: 'alice', limit: 3, retryAfterSeconds: retryAfter });
    }
    expect((await a.app.inject({ url: '/v1/kernels', headers: bearer(bob) })).statusCode).toBe(200);
    const metrics = await a.app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/lbc_auth_denied_total\{reason="rate-limited"\} 1/);
  });

  it('anonymous loopback clients (the local machine) are not limited', async () => {
    for (let i = 0; i < 8; i++) expect((await a.app.inject({ url: '/v1/kernels' })).statusCode).toBe(200);
  });
});

describe('per-tenant bound on queued compiles', () => {
  let h: AuthHarness;
  let target: { release: string; arch: string };
  beforeAll(async () => {
    h = await startAuthHarness({ authMode: 'required', maxQueuedJobsPerTenant: 2 });
    const { kernel } = await h.registry.register({ btf: tinyBtf('quota'), release: '6.1.0-quota', arch: 'x86_64', distro: 'debian', source: 'upload' });
    target = { release: kernel.release, arch: kernel.arch };
  });
  afterAll(async () => h?.close());

  // No worker runs yet: every new compile stays queued.
  const compile = (token: string, source: string, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'POST', url: '/v1/compile', headers: { ...bearer(token), ...headers }, payload: { name: 'q', source, target, waitMs: 0 } });

  it('a tenant at its bound gets 429 LBC_ERR_TENANT_QUEUE_FULL with Retry-After; a job it already holds and other tenants are not refused; finished jobs free the bound', async () => {
    const alice = h.tokens.create({ tenant: 'alice' }).token;
    const bob = h.tokens.create({ tenant: 'bob' }).token;
    expect((await compile(alice, 'int a;')).statusCode).toBe(202);
    expect((await compile(alice, 'int b;')).statusCode).toBe(202);

    const full = await compile(alice, 'int c;');
    expect(full.statusCode).toBe(429);
    expect(errorOf(full).code).toBe('LBC_ERR_TENANT_QUEUE_FULL');
    expect(errorOf(full).details).toMatchObject({ tenant: 'alice', queued: 2, limit: 2 });
    expect(Number(full.headers['retry-after'])).toBeGreaterThan(0);

    expect((await compile(alice, 'int a;')).statusCode).toBe(202);
    expect((await compile(bob, 'int c;')).statusCode).toBe(202);
    expect(await h.producer.queue.getWaitingCount()).toBe(3);

    // A worker finishes the queued jobs (a stand-in that answers a compile error for each).
    const worker = new Worker<unknown, CompileJobResult>(COMPILE_QUEUE, async () => ({ ok: false, code: 'LBC_ERR_COMPILE', diagnostics: 'q.bpf.c:1:1: error: stand-in' }), {
      // Disconnected by h.redis.stop() before the server goes (worker.close() leaves it open).
      connection: h.redis.connect(),
    });
    try {
      await expect.poll(async () => h.producer.queue.getCompletedCount(), { timeout: 10_000 }).toBe(3);
    } finally {
      await worker.close();
    }
    expect((await compile(alice, 'int d;')).statusCode).toBe(202);
    expect((await compile(alice, 'int e;')).statusCode).toBe(202);
  });

  it('the request id travels into the job: generated, or the caller’s X-Request-Id kept behind a tag of the caller (an admin’s as given)', async () => {
    const carol = h.tokens.create({ tenant: 'carol' }).token;
    const generated = await compile(carol, 'int rid1;');
    expect(generated.statusCode).toBe(202);
    const requestId = generated.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const job = await h.producer.getJob((generated.json() as { jobId: string }).jobId);
    expect(job?.data).toMatchObject({ requestId, tenant: 'carol' });

    const given = await compile(carol, 'int rid2;', { 'x-request-id': 'gateway-1234abcd' });
    expect(given.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-gateway-1234abcd$/);
    const job2 = await h.producer.getJob((given.json() as { jobId: string }).jobId);
    expect(job2?.data.requestId).toBe(given.headers['x-request-id']);
    const ops = h.tokens.create({ tenant: 'ops', admin: true }).token;
    const fromAdmin = await h.app.inject({ url: '/v1/limits', headers: { ...bearer(ops), 'x-request-id': 'gateway-5678abcd' } });
    expect(fromAdmin.headers['x-request-id']).toBe('gateway-5678abcd');
    // A malformed one is replaced, not logged as given.
    const bad = await h.app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\u0000' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
