/**
 * Attacks on the HTTP layer, each written as the attack and the refusal expected: bodies and headers
 * dripped a byte at a time, bodies from callers without a token, bodies over the limit, and one
 * address holding many connections. A real server on 127.0.0.1 (raw sockets), a real Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '@lbc/contract';
import { openDatabase } from '@lbc/core';
import { TokenStore } from '../src/auth/token-store.ts';
import { parseAnswer, rawRequest } from '@lbc/test-support/raw-http';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { startService, type RunningService } from '@lbc/test-support/service';
import { startAuthHarness, type AuthHarness } from '@lbc/test-support/auth-harness';

const BODY_TIMEOUT_MS = 3000;
const HEADERS_TIMEOUT_MS = 1500;
const CONNECTION_CAP = 4;
const DRAIN_BYTES = 8 * 1024 * 1024;
// Node checks deadlines every tenth of the shorter one; a busy machine adds scheduling delay.
const SLACK_MS = 1500;

const codeOf = (answer: string) => (parseAnswer(answer).json as ErrorBody | null)?.error.code;

describe('hostile HTTP clients (LBC_AUTH=required)', () => {
  let h: AuthHarness;
  let port: number;
  let token: string;
  beforeAll(async () => {
    h = await startAuthHarness({ authMode: 'required', bodyTimeoutMs: BODY_TIMEOUT_MS, headersTimeoutMs: HEADERS_TIMEOUT_MS, maxConnectionsPerClient: CONNECTION_CAP, refusedBodyDrainBytes: DRAIN_BYTES });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    port = (h.app.server.address() as { port: number }).port;
    token = h.tokens.create({ tenant: 'mallory' }).token;
  });
  afterAll(async () => h?.close());

  const compileHead = (length: number, auth = true) =>
    `POST /v1/compile HTTP/1.1\r\nHost: lbc\r\nContent-Type: application/json\r\n${auth ? `Authorization: Bearer ${token}\r\n` : ''}Content-Length: ${length}`;

  it('a body of Content-Length 5000000 sent a byte a second is cut off at the body deadline with 408 LBC_ERR_BODY_TIMEOUT', async () => {
    const r = await rawRequest({ port, head: compileHead(5_000_000), dripMs: 1000, giveUpMs: 30_000 });
    expect(parseAnswer(r.answer).status).toBe(408);
    expect(codeOf(r.answer)).toBe('LBC_ERR_BODY_TIMEOUT');
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 100);
    expect(r.closedAfterMs).toBeLessThan(BODY_TIMEOUT_MS + SLACK_MS);
  });

  it('headers sent a byte at a time are cut off at the headers deadline with 408 LBC_ERR_HEADERS_TIMEOUT', async () => {
    const r = await rawRequest({ port, head: compileHead(10), dripHead: true, dripMs: 200, giveUpMs: 30_000 });
    expect(codeOf(r.answer)).toBe('LBC_ERR_HEADERS_TIMEOUT');
    expect(r.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('a caller without a token gets 401 at once and its body is not read: the connection closes within a second, long before the body deadline', async () => {
    const r = await rawRequest({ port, head: compileHead(5_000_000, false), body: Buffer.alloc(200_000, 'a'), dripMs: 200, giveUpMs: 30_000 });
    expect(parseAnswer(r.answer).status).toBe(401);
    expect(codeOf(r.answer)).toBe('LBC_ERR_AUTH_REQUIRED');
    expect(r.closedAfterMs).toBeLessThan(1000 + SLACK_MS);
    expect(r.closedAfterMs).toBeLessThan(BODY_TIMEOUT_MS);
  });

  it('a body over the limit, sent whole, is drained so any HTTP client reads 413 LBC_ERR_BODY_TOO_LARGE naming the limit (not EPIPE)', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/compile`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: Buffer.alloc(6_000_000, 'a') });
    expect(res.status).toBe(413);
    const error = ((await res.json()) as ErrorBody).error;
    expect(error.code).toBe('LBC_ERR_BODY_TOO_LARGE');
    expect(error.details?.limit).toBeGreaterThan(0);
    expect(error.message).toContain(String(error.details?.limit));
  });

  it('a body far over the limit is drained only up to the bound, then the connection is closed', async () => {
    const r = await rawRequest({ port, head: compileHead(50_000_000), body: Buffer.alloc(DRAIN_BYTES + 4 * 1024 * 1024, 'a'), dripMs: 100, giveUpMs: 30_000 });
    expect(r.closedAfterMs).toBeLessThan(BODY_TIMEOUT_MS / 2);
  });

  it(`one address holding ${CONNECTION_CAP} connections gets 429 LBC_ERR_TOO_MANY_CONNECTIONS on the next; another address is served`, async () => {
    const held: Socket[] = [];
    try {
      for (let i = 0; i < CONNECTION_CAP; i++) {
        const s = connect({ port, host: '127.0.0.1' });
        await new Promise((resolve) => s.once('connect', resolve));
        held.push(s);
      }
      const refused = await rawRequest({ port, head: 'GET /v1/limits HTTP/1.1\r\nHost: lbc', giveUpMs: 10_000 });
      expect(parseAnswer(refused.answer).status).toBe(429);
      expect(codeOf(refused.answer)).toBe('LBC_ERR_TOO_MANY_CONNECTIONS');
      const other = await new Promise<string>((resolve, reject) => {
        const s = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }, () => s.write('GET /healthz HTTP/1.1\r\nHost: lbc\r\nConnection: close\r\n\r\n'));
        let text = '';
        s.on('data', (c) => (text += c.toString()));
        s.on('close', () => resolve(text));
        s.on('error', reject);
      });
      expect(parseAnswer(other).status).toBe(200);
    } finally {
      for (const s of held) s.destroy();
    }
    // Closed connections no longer count.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await rawRequest({ port, head: 'GET /healthz HTTP/1.1\r\nHost: lbc\r\nConnection: close', giveUpMs: 10_000 });
    expect(parseAnswer(again.answer).status).toBe(200);
  });
});

describe('the service as npm start runs it (LBC_AUTH=required, LBC_BODY_TIMEOUT_MS=2000 from the environment)', () => {
  let redis: PrivateRedis;
  let service: RunningService;
  let token: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'lbc-hostile-http-'));
  beforeAll(async () => {
    redis = await startPrivateRedis();
    // A tenant token made before the start, as lbc-admin does on a fresh farm.
    const db = openDatabase(dataDir);
    token = new TokenStore(db).create({ tenant: 'mallory' }).token;
    db.close();
    service = await startService({ redisUrl: redis.url, dataDir, env: { LBC_AUTH: 'required', LBC_BODY_TIMEOUT_MS: '2000', LBC_HEADERS_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => {
    await service?.stop();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a tenant dripping a 5000000-byte body a byte every 1.5 s is cut at the 2 s deadline with 408 LBC_ERR_BODY_TIMEOUT', async () => {
    const port = Number(new URL(service.url).port);
    const r = await rawRequest({ port, head: `POST /v1/compile HTTP/1.1\r\nHost: lbc\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: 5000000`, dripMs: 1500, giveUpMs: 20_000 });
    expect(codeOf(r.answer)).toBe('LBC_ERR_BODY_TIMEOUT');
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(1900);
    expect(r.closedAfterMs).toBeLessThan(2000 + SLACK_MS);
  });

  it('a slow body without a token is answered 401 and closed at once; the slow-loris that remains is cut at the deadline', async () => {
    const port = Number(new URL(service.url).port);
    const head = 'PUT /v1/kernels/' + 'a'.repeat(64) + '?release=x&arch=x86_64 HTTP/1.1\r\nHost: lbc\r\nContent-Type: application/octet-stream\r\nContent-Length: 5000000';
    const unauthenticated = await rawRequest({ port, head, dripMs: 2000, giveUpMs: 20_000 });
    expect(codeOf(unauthenticated.answer)).toBe('LBC_ERR_AUTH_REQUIRED');
    expect(unauthenticated.closedAfterMs).toBeLessThan(1000 + SLACK_MS);
    const slowHeaders = await rawRequest({ port, head, dripHead: true, dripMs: 500, giveUpMs: 20_000 });
    expect(codeOf(slowHeaders.answer)).toBe('LBC_ERR_HEADERS_TIMEOUT');
    expect(slowHeaders.closedAfterMs).toBeLessThan(1000 + SLACK_MS);
  });
});
