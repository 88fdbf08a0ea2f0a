import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '@lbc/contract';
import { loadConfig, sha256Of } from '@lbc/core';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { ServiceClient } from '../../../client/src/transport/index.ts';
import { bearer, startAuthHarness, type AuthHarness } from '@lbc/test-support/auth-harness';

const errorOf = (res: { json(): unknown }) => (res.json() as ErrorBody).error;
const REMOTE = '10.20.30.40';

describe('auth mode defaults', () => {
  it('loopback when the API listens on a loopback address, required otherwise; LBC_AUTH overrides, a typo is refused', () => {
    expect(loadConfig({}).authMode).toBe('loopback');
    expect(loadConfig({ LBC_HOST: '::1' }).authMode).toBe('loopback');
    expect(loadConfig({ LBC_HOST: '0.0.0.0' }).authMode).toBe('required');
    expect(loadConfig({}, { host: '10.0.0.1' }).authMode).toBe('required');
    expect(loadConfig({ LBC_HOST: '0.0.0.0', LBC_AUTH: 'off' }).authMode).toBe('off');
    expect(() => loadConfig({ LBC_AUTH: 'none' })).toThrow(/LBC_AUTH must be one of loopback, required, off/);
  });
});

describe('loopback mode (the single-machine default)', () => {
  let h: AuthHarness;
  let tenantToken: string;
  beforeAll(async () => {
    h = await startAuthHarness({ authMode: 'loopback' });
    tenantToken = h.tokens.create({ tenant: 'alice' }).token;
  });
  afterAll(async () => h?.close());

  it('a loopback client needs no token to read; administering takes an admin token (hostile-loopback.test.ts)', async () => {
    expect((await h.app.inject({ url: '/v1/kernels' })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/v1/tokens' })).statusCode).toBe(401);
    const admin = h.tokens.create({ tenant: 'ops', admin: true }).token;
    expect((await h.app.inject({ url: '/v1/tokens', headers: bearer(admin) })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/metrics', headers: bearer(admin) })).statusCode).toBe(200);
  });

  it('a remote client without a token gets 401 LBC_ERR_AUTH_REQUIRED with a Bearer challenge; with a token it is served', async () => {
    const res = await h.app.inject({ url: '/v1/kernels', remoteAddress: REMOTE });
    expect(res.statusCode).toBe(401);
    expect(errorOf(res).code).toBe('LBC_ERR_AUTH_REQUIRED');
    expect(errorOf(res).hint).toMatch(/lbc-admin token create/);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    const ok = await h.app.inject({ url: '/v1/kernels', remoteAddress: REMOTE, headers: bearer(tenantToken) });
    expect(ok.statusCode).toBe(200);
  });

  it('probes stay open to everyone', async () => {
    expect((await h.app.inject({ url: '/healthz', remoteAddress: REMOTE })).statusCode).toBe(200);
  });

  it('a wrong token is refused even from loopback (it is checked whenever one is sent)', async () => {
    const res = await h.app.inject({ url: '/v1/kernels', headers: bearer('lbc_not-a-real-token') });
    expect(res.statusCode).toBe(401);
    expect(errorOf(res).code).toBe('LBC_ERR_AUTH_INVALID');
    const scheme = await h.app.inject({ url: '/v1/kernels', headers: { authorization: 'Token abc' } });
    expect(errorOf(scheme).message).toMatch(/unsupported scheme "Token"/);
  });
});

describe('required mode', () => {
  let h: AuthHarness;
  let tenant: string;
  let admin: string;
  beforeAll(async () => {
    h = await startAuthHarness({ authMode: 'required' });
    tenant = h.tokens.create({ tenant: 'alice' }).token;
    admin = h.tokens.create({ tenant: 'ops', admin: true }).token;
  });
  afterAll(async () => h?.close());

  it('no token, not even from loopback: 401; probes and /docs stay open', async () => {
    const res = await h.app.inject({ url: '/v1/kernels' });
    expect(res.statusCode).toBe(401);
    expect(errorOf(res).code).toBe('LBC_ERR_AUTH_REQUIRED');
    expect((await h.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/docs/json' })).statusCode).toBe(200);
  });

  it('a tenant token reads and compiles, but kernel registration, tokens, metrics and the dashboard need an admin: 403 LBC_ERR_FORBIDDEN', async () => {
    expect((await h.app.inject({ url: '/v1/kernels', headers: bearer(tenant) })).statusCode).toBe(200);
    const compile = await h.app.inject({ method: 'POST', url: '/v1/compile', headers: bearer(tenant), payload: { name: 'x', source: 'int x;', target: { release: 'r', arch: 'x86_64' } } });
    expect(errorOf(compile).code).toBe('LBC_ERR_KERNEL_UNKNOWN');
    for (const [method, url] of [
      ['PUT', `/v1/kernels/${'a'.repeat(64)}?release=r&arch=x86_64`],
      ['GET', '/v1/tokens'],
      ['POST', '/v1/tokens'],
      ['GET', '/metrics'],
      ['GET', '/dashboard'],
      ['GET', '/dashboard/api/summary'],
    ] as const) {
      const res = await h.app.inject({ method, url, headers: bearer(tenant) });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(errorOf(res).code).toBe('LBC_ERR_FORBIDDEN');
      expect(errorOf(res).message).toContain('tenant alice');
    }
    const btf = tinyBtf('auth');
    const asAdmin = await h.app.inject({ method: 'PUT', url: `/v1/kernels/${sha256Of(btf)}?release=r&arch=x86_64`, headers: { ...bearer(admin), 'content-type': 'application/octet-stream' }, payload: btf });
    expect(asAdmin.statusCode).toBe(201);
    expect((await h.app.inject({ url: '/metrics', headers: bearer(admin) })).statusCode).toBe(200);
  });

  it('the dashboard asks browsers for Basic credentials and takes the admin token as password', async () => {
    const challenge = await h.app.inject({ url: '/dashboard' });
    expect(challenge.statusCode).toBe(401);
    expect(challenge.headers['www-authenticate']).toMatch(/^Basic realm="lbc"/);
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}` });
    const page = await h.app.inject({ url: '/dashboard', headers: basic(admin) });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect((await h.app.inject({ url: '/dashboard', headers: basic(tenant) })).statusCode).toBe(403);
    expect((await h.app.inject({ url: '/dashboard/queues', headers: basic(admin) })).statusCode).toBe(200);
  });

  it('tokens are stored hashed, created over HTTP by an admin (shown once), and revoked at once', async () => {
    const created = await h.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(admin), payload: { tenant: 'bob', label: 'CI' } });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json() as { id: number; token: string };
    expect(token).toMatch(/^lbc_[A-Za-z0-9_-]{43}$/);
    expect((await h.app.inject({ url: '/v1/kernels', headers: bearer(token) })).statusCode).toBe(200);

    const listed = (await h.app.inject({ url: '/v1/tokens', headers: bearer(admin) })).json() as { tokens: Record<string, unknown>[] };
    expect(listed.tokens.find((t) => t.id === id)).toMatchObject({ tenant: 'bob', admin: false, label: 'CI', revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(token);
    // Nothing in the database is the token itself.
    const db = JSON.stringify(h.tokens.list());
    expect(db).not.toContain(token);

    const revoked = await h.app.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, headers: bearer(admin) });
    expect(revoked.statusCode).toBe(200);
    expect((revoked.json() as { revokedAt: string | null }).revokedAt).not.toBeNull();
    const after = await h.app.inject({ url: '/v1/kernels', headers: bearer(token) });
    expect(after.statusCode).toBe(401);
    expect(errorOf(after).code).toBe('LBC_ERR_AUTH_INVALID');

    const unknown = await h.app.inject({ method: 'DELETE', url: '/v1/tokens/999999', headers: bearer(admin) });
    expect(unknown.statusCode).toBe(404);
    expect(errorOf(unknown).code).toBe('LBC_ERR_TOKEN_NOT_FOUND');
    const badTenant = await h.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(admin), payload: { tenant: 'Not Valid' } });
    expect(badTenant.statusCode).toBe(400);
  });

  it('the client sends LBC_TOKEN / the token option as Bearer', async () => {
    const url = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const anonymous = new ServiceClient({ server: url, token: '' });
    const withOption = new ServiceClient({ server: url, token: tenant });
    const saved = process.env.LBC_TOKEN;
    process.env.LBC_TOKEN = tenant;
    const fromEnv = new ServiceClient({ server: url });
    if (saved === undefined) delete process.env.LBC_TOKEN;
    else process.env.LBC_TOKEN = saved;
    try {
      await expect(anonymous.listKernels()).rejects.toMatchObject({ code: 'LBC_ERR_AUTH_REQUIRED' });
      expect((await withOption.listKernels()).map((k) => k.release)).toContain('r');
      expect((await fromEnv.listKernels()).map((k) => k.release)).toContain('r');
    } finally {
      await Promise.all([anonymous.close(), withOption.close(), fromEnv.close()]);
    }
  });
});

describe('auth off', () => {
  let h: AuthHarness;
  beforeAll(async () => {
    h = await startAuthHarness({ authMode: 'off' });
  });
  afterAll(async () => h?.close());

  it('anyone is served without a token, remote clients included', async () => {
    expect((await h.app.inject({ url: '/v1/kernels', remoteAddress: REMOTE })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/v1/tokens', remoteAddress: REMOTE })).statusCode).toBe(200);
  });
});
