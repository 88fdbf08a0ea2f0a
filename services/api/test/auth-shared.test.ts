/**
 * Two API nodes of one farm with separate data directories (no shared disk) on one Redis: a token
 * made on either node works on both, and a revoked one stops working on both at once. Only token
 * hashes cross Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '@lbc/contract';
import { TOKENS_KEY } from '../src/auth/shared-tokens.ts';
import { bearer, startAuthHarness, type AuthHarness } from '@lbc/test-support/auth-harness';
import { startRestartableRedis, type RestartableRedis } from '@lbc/test-support/restartable-redis';

const errorOf = (res: { json(): unknown }) => (res.json() as ErrorBody).error;

describe('tokens across API nodes', () => {
  let redis: RestartableRedis;
  let a: AuthHarness;
  let b: AuthHarness;
  let adminA = '';
  beforeAll(async () => {
    redis = await startRestartableRedis();
    // Made before node A starts (as lbc-admin does on a fresh farm): A shares it when it starts.
    a = await startAuthHarness({ authMode: 'required' }, redis, (tokens) => {
      adminA = tokens.create({ tenant: 'ops', admin: true }).token;
    });
    b = await startAuthHarness({ authMode: 'required' }, redis);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  it('a token in node A’s store before it started works on node B', async () => {
    expect((await b.app.inject({ url: '/v1/tokens', headers: bearer(adminA) })).statusCode).toBe(200);
  });

  it('a token created over HTTP on A works on B at once; revoked on A, B refuses it at once', async () => {
    const created = await a.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(adminA), payload: { tenant: 'bob' } });
    const { id, token } = created.json() as { id: number; token: string };
    expect((await b.app.inject({ url: '/v1/kernels', headers: bearer(token) })).statusCode).toBe(200);
    // A tenant token from another node is still only a tenant's.
    expect((await b.app.inject({ url: '/metrics', headers: bearer(token) })).statusCode).toBe(403);

    expect((await a.app.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, headers: bearer(adminA) })).statusCode).toBe(200);
    for (const node of [a, b]) {
      const res = await node.app.inject({ url: '/v1/kernels', headers: bearer(token) });
      expect(res.statusCode).toBe(401);
      expect(errorOf(res).code).toBe('LBC_ERR_AUTH_INVALID');
    }
  });

  it('Redis holds token hashes, never tokens', async () => {
    const shared = await a.redisOwner.command.hgetall(TOKENS_KEY);
    expect(Object.keys(shared).every((k) => /^[0-9a-f]{64}$/.test(k))).toBe(true);
    expect(JSON.stringify(shared)).not.toContain(adminA);
    expect(Object.values(shared).map((v) => JSON.parse(v) as { tenant: string })).toEqual([expect.objectContaining({ tenant: 'ops', admin: true })]);
  });

  it('with Redis down, a token only another node knows is a clear 503, and this node’s own tokens still work', async () => {
    const local = a.tokens.create({ tenant: 'carol' }).token;
    const remote = (await a.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(adminA), payload: { tenant: 'dave' } })).json() as { token: string };
    await redis.kill();
    try {
      const res = await b.app.inject({ url: '/v1/kernels', headers: bearer(remote.token) });
      expect(res.statusCode).toBe(503);
      expect(errorOf(res).code).toBe('LBC_ERR_QUEUE_UNAVAILABLE');
      expect((await a.app.inject({ url: '/v1/kernels', headers: bearer(local) })).statusCode).toBe(200);
      // Probes never look at credentials.
      expect((await b.app.inject({ url: '/healthz', headers: bearer(remote.token) })).statusCode).toBe(200);
    } finally {
      await redis.start();
    }
  });
});
