/**
 * Attacks from a local process on a single-machine farm (LBC_AUTH=loopback, the default): it may
 * compile and read, not administer. Each case is the attack and the refusal expected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, KernelInfo } from '@lbc/contract';
import { failedJobError, rememberKernelSetFailure, sha256Of } from '@lbc/core';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { bearer, startAuthHarness, type AuthHarness } from '@lbc/test-support/auth-harness';

const errorOf = (res: { json(): unknown }) => (res.json() as ErrorBody).error;
const HOST_RELEASE = '6.18.0-hostile-host';

const upload = (h: AuthHarness, btf: Buffer, release: string, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'PUT', url: `/v1/kernels/${sha256Of(btf)}?release=${release}&arch=x86_64`, headers: { 'content-type': 'application/octet-stream', ...headers }, payload: btf });

describe('a local process on a loopback farm', () => {
  let h: AuthHarness;
  let admin: string;
  let hostSha: string;
  beforeAll(async () => {
    h = await startAuthHarness({ authMode: 'loopback' });
    admin = h.tokens.create({ tenant: 'ops', admin: true }).token;
    hostSha = (await h.registry.register({ btf: tinyBtf('hostile_host'), release: HOST_RELEASE, arch: 'x86_64', distro: 'debian', source: 'host' })).kernel.btfSha256;
  });
  afterAll(async () => h?.close());

  it('cannot list, mint or revoke tokens: 401 naming the admin token it needs', async () => {
    for (const attempt of [
      { method: 'GET' as const, url: '/v1/tokens' },
      { method: 'POST' as const, url: '/v1/tokens', payload: { tenant: 'mallory', admin: true } },
      { method: 'DELETE' as const, url: '/v1/tokens/1' },
    ]) {
      const res = await h.app.inject(attempt);
      expect(res.statusCode, attempt.url).toBe(401);
      expect(errorOf(res).code).toBe('LBC_ERR_AUTH_REQUIRED');
      expect(errorOf(res).message).toMatch(/needs an admin token.*LBC_LOOPBACK_ADMIN=1/);
    }
    expect(h.tokens.list().filter((t) => t.tenant === 'mallory')).toEqual([]);
  });

  it('cannot read /metrics or the dashboard; /dashboard/queues answers 401 with a login challenge, not a 500', async () => {
    expect((await h.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    for (const url of ['/dashboard', '/dashboard/api/summary', '/dashboard/queues', '/dashboard/queues/api/queues']) {
      const res = await h.app.inject({ url });
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['www-authenticate'], url).toMatch(/^Basic realm="lbc"/);
    }
    expect((await h.app.inject({ url: '/dashboard/queues', headers: bearer(admin) })).statusCode).toBe(200);
  });

  it('still compiles and reads without a token', async () => {
    expect((await h.app.inject({ url: '/v1/kernels' })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/v1/limits' })).statusCode).toBe(200);
  });

  it('an upload of a different BTF under the host release is kept by its sha256 but never becomes what the release resolves to', async () => {
    const evil = tinyBtf('hostile_takeover');
    const res = await upload(h, evil, HOST_RELEASE);
    expect(res.statusCode).toBe(201);
    expect((res.json() as KernelInfo).answersForRelease).toBe(false);
    expect(h.registry.resolve({ release: HOST_RELEASE, arch: 'x86_64' }).btfSha256).toBe(hostSha);
    expect(h.registry.resolve({ release: HOST_RELEASE, arch: 'x86_64', btfSha256: sha256Of(evil) }).btfSha256).toBe(sha256Of(evil));
    // Uploading it again, or from a tenant token, changes nothing; a tenant may not upload at all.
    expect(((await upload(h, evil, HOST_RELEASE)).json() as KernelInfo).answersForRelease).toBe(false);
    const alice = h.tokens.create({ tenant: 'alice' }).token;
    expect((await upload(h, tinyBtf('hostile_tenant'), HOST_RELEASE, bearer(alice))).statusCode).toBe(403);
    expect(h.registry.resolve({ release: HOST_RELEASE, arch: 'x86_64' }).btfSha256).toBe(hostSha);
    // An admin may replace the release's kernel deliberately.
    const vouched = await upload(h, evil, HOST_RELEASE, bearer(admin));
    expect((vouched.json() as KernelInfo).answersForRelease).toBe(true);
    expect(h.registry.resolve({ release: HOST_RELEASE, arch: 'x86_64' }).btfSha256).toBe(sha256Of(evil));
  });

  it('an upload for a release nobody holds is accepted and answers for it (the client uploads its own kernel once)', async () => {
    const mine = tinyBtf('hostile_new_release');
    const res = await upload(h, mine, '6.18.0-hostile-fresh');
    expect(res.statusCode).toBe(201);
    expect((res.json() as KernelInfo).answersForRelease).toBe(true);
  });

  it("cannot splice its requests into another caller's log trace with a chosen X-Request-Id", async () => {
    const alice = h.tokens.create({ tenant: 'alice2' }).token;
    const bob = h.tokens.create({ tenant: 'bob2' }).token;
    const victim = await h.app.inject({ url: '/v1/limits', headers: { ...bearer(alice), 'x-request-id': 'trace-0000aaaa' } });
    const spliced = await h.app.inject({ url: '/v1/limits', headers: { ...bearer(bob), 'x-request-id': 'trace-0000aaaa' } });
    const anonymous = await h.app.inject({ url: '/v1/limits', headers: { 'x-request-id': 'trace-0000aaaa' } });
    const ids = [victim, spliced, anonymous].map((r) => r.headers['x-request-id']);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-trace-0000aaaa$/);
    // Nor take a generated id: whatever it sends carries its tag.
    const generated = (await h.app.inject({ url: '/v1/limits' })).headers['x-request-id'] as string;
    expect((await h.app.inject({ url: '/v1/limits', headers: { ...bearer(bob), 'x-request-id': generated } })).headers['x-request-id']).not.toBe(generated);
  });
});

describe('with LBC_LOOPBACK_ADMIN=1 the operator chose: local processes administer', () => {
  let h: AuthHarness;
  beforeAll(async () => {
    h = await startAuthHarness({ authMode: 'loopback', loopbackAdmin: true });
  });
  afterAll(async () => h?.close());

  it('tokens, /metrics and the dashboard answer without a token from loopback, and still not from elsewhere', async () => {
    expect((await h.app.inject({ url: '/v1/tokens' })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/metrics' })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/dashboard/queues' })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/v1/tokens', remoteAddress: '10.1.2.3' })).statusCode).toBe(401);
  });
});

describe('LBC_METRICS_ACCESS', () => {
  it('public: a scraper reads /metrics without a token, even with tokens required; admin (default) needs an admin token', async () => {
    const open = await startAuthHarness({ authMode: 'required', metricsAccess: 'public' });
    const closed = await startAuthHarness({ authMode: 'required' });
    try {
      expect((await open.app.inject({ url: '/metrics', remoteAddress: '10.1.2.3' })).statusCode).toBe(200);
      const tenant = closed.tokens.create({ tenant: 'alice' }).token;
      expect((await closed.app.inject({ url: '/metrics', remoteAddress: '10.1.2.3', headers: bearer(tenant) })).statusCode).toBe(403);
    } finally {
      await open.close();
      await closed.close();
    }
  });
});

describe('a kernel whose BTF made the kernel-set tools fail (hostile-kernel-set.test.ts in the worker)', () => {
  it('is refused at once with the remembered cause: no job, no tool run again', async () => {
    const h = await startAuthHarness({ authMode: 'loopback' });
    try {
      const kernel = (await h.registry.register({ btf: tinyBtf('spins_bpftool'), release: '6.18.0-spin', arch: 'x86_64', source: 'upload' })).kernel;
      const cause = `bpftool btf dump of kernel ${kernel.btfSha256} used its 60 s of CPU`;
      await rememberKernelSetFailure(h.redisOwner.command, kernel.btfSha256, 'test-toolchain', cause);
      const res = await h.app.inject({ method: 'POST', url: '/v1/compile', payload: { name: 'p', source: 'int x;', target: { release: '6.18.0-spin', arch: 'x86_64' } } });
      expect(res.statusCode).toBe(422);
      expect(errorOf(res).code).toBe('LBC_ERR_KERNEL_SET_FAILED');
      expect(errorOf(res).message).toContain(cause);
      expect(await h.producer.queue.getJobCounts('waiting', 'active')).toMatchObject({ waiting: 0, active: 0 });
      // A job that failed on it reports the worker's code, not a sandbox fault.
      expect(failedJobError(`LBC_ERR_KERNEL_SET_FAILED: x: ${cause}`, {}).code).toBe('LBC_ERR_KERNEL_SET_FAILED');
      expect(failedJobError('docker went away', {}).code).toBe('LBC_ERR_SANDBOX');
    } finally {
      await h.close();
    }
  });
});
