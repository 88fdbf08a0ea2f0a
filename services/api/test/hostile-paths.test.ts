/**
 * Paths an attacker (or a broken proxy) sends, and answers a cache in front of the API must not
 * keep: every refusal is an ErrorBody with a catalogue code, also those fastify's router makes
 * before any route runs; only an object's bytes are cacheable forever, never a 404 or a 503 for
 * its URL. A real Redis, stopped to play an outage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '@lbc/contract';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';
import { startRestartableRedis, type RestartableRedis } from '@lbc/test-support/restartable-redis';

const REDIS_BOUND_MS = 1000;

let redis: RestartableRedis;
let h: Harness;
beforeAll(async () => {
  redis = await startRestartableRedis();
  h = await startHarness({ redis, config: { redisTimeoutMs: REDIS_BOUND_MS } });
});
afterAll(async () => {
  await h?.close();
  await redis?.stop();
});

const errorOf = (res: { json(): unknown }) => (res.json() as ErrorBody).error;

describe('paths the router refuses', () => {
  it('a path that is not valid percent-encoding is 400 LBC_ERR_BAD_REQUEST in the catalogue shape, not fastify\'s FST_ERR_BAD_URL', async () => {
    for (const url of ['/v1/kernels/%%%/catalog', '/v1/artifacts/%E0%A4%A', '/internal/blobs/%zz']) {
      const res = await h.app.inject({ url });
      expect(res.statusCode, url).toBe(400);
      expect(errorOf(res), url).toMatchObject({ code: 'LBC_ERR_BAD_REQUEST', details: { field: 'url' } });
      expect(errorOf(res).message).toContain('percent-encoding');
      expect(errorOf(res).hint).toBeTruthy();
    }
  });

  it('a path parameter longer than the router takes is 400 LBC_ERR_BAD_REQUEST, not a 414 with fastify\'s FST_ERR_MAX_PARAM_LENGTH', async () => {
    for (const url of [`/v1/jobs/${'a'.repeat(5000)}`, `/v1/artifacts/${'f'.repeat(300)}`, `/v1/kernels/${'0'.repeat(200)}/structs/task_struct`]) {
      const res = await h.app.inject({ url });
      expect(res.statusCode, url.slice(0, 40)).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: 'LBC_ERR_BAD_REQUEST', details: { field: 'url' } });
      // The echo of the path is bounded: a 5000-character path does not come back whole.
      expect(res.body.length).toBeLessThan(1000);
    }
  });
});

describe('GET /v1/artifacts/:sha256 answers a cache may keep', () => {
  const unknown = 'c'.repeat(64);

  it('a 404 carries no immutable Cache-Control and no ETag (a cache would answer 404 for a year once the object exists)', async () => {
    const res = await h.app.inject({ url: `/v1/artifacts/${unknown}` });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('LBC_ERR_ARTIFACT_NOT_FOUND');
    expect(res.headers['cache-control']).toBeUndefined();
    expect(res.headers.etag).toBeUndefined();
  });

  it('with Redis hung, an object this node lacks is 503 LBC_ERR_QUEUE_UNAVAILABLE within the bound, not a 404 "no such artifact"', async () => {
    redis.process.kill('SIGSTOP');
    try {
      const started = Date.now();
      const res = await h.app.inject({ url: `/v1/artifacts/${unknown}` });
      expect(res.statusCode).toBe(503);
      expect(errorOf(res).code).toBe('LBC_ERR_QUEUE_UNAVAILABLE');
      expect(res.headers['cache-control']).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(REDIS_BOUND_MS + 2000);
      // An object this node holds needs no Redis: still served, and cacheable.
      const entry = h.cache.store('held-key', Buffer.from('\x7fELF held here'));
      const held = await h.app.inject({ url: `/v1/artifacts/${entry.sha256}` });
      expect(held.statusCode).toBe(200);
      expect(held.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    } finally {
      redis.process.kill('SIGCONT');
    }
  });
});
