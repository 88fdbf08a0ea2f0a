import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker, UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { COMPILE_QUEUE, addJobReader, sha256Of } from '@lbc/core';
import type { ErrorBody } from '@lbc/contract';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';

let h: Harness;
beforeAll(async () => {
  // /metrics read without a token (LBC_METRICS_ACCESS=tenant): the default needs an admin.
  h = await startHarness({ config: { metricsAccess: 'tenant' } });
});
afterAll(async () => {
  await h?.close();
});

const target = { release: '6.1.0-50-cloud-amd64', arch: 'x86_64' };
const compile = (body: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/compile', payload: { name: 'hello', source: 'int x;', target, ...body } });
const errorOf = (res: { json(): unknown }) => (res.json() as ErrorBody).error;

describe('compile request validation', () => {
  it('a forbidden cflag is a 400 naming the flag', async () => {
    const res = await compile({ cflags: ['-DOK=1', '-fplugin=/tmp/evil.so'] });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe('LBC_ERR_CFLAG_FORBIDDEN');
    expect(errorOf(res).message).toContain('-fplugin=/tmp/evil.so');
    expect(errorOf(res).details).toEqual({ flag: '-fplugin=/tmp/evil.so' });
  });

  it('a -D value ending in a backslash (it would continue onto the next flag) is a 400 naming the flag', async () => {
    const res = await compile({ cflags: ['-DA=x\\', '-DB=2'] });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'LBC_ERR_CFLAG_FORBIDDEN', details: { flag: '-DA=x\\' } });
    expect(errorOf(res).message).toMatch(/ends in a backslash/);
  });

  it('a bad program name is a 400 naming the field', async () => {
    const res = await compile({ name: '../etc/passwd' });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'LBC_ERR_BAD_REQUEST', details: { field: 'body/name' } });
  });

  it('missing fields and unknown fields are 400s naming them', async () => {
    const missing = await h.app.inject({ method: 'POST', url: '/v1/compile', payload: { name: 'x', source: 'int x;' } });
    expect(errorOf(missing).details).toEqual({ field: 'body/target' });
    const unknown = await compile({ cflagz: [] });
    expect(unknown.statusCode).toBe(400);
    expect(errorOf(unknown).message).toMatch(/additional properties/);
    const arch = await compile({ target: { release: 'r', arch: 'mips' } });
    expect(errorOf(arch).details).toEqual({ field: 'body/target/arch' });
  });

  it('include paths with .. or a leading / are refused, in the includes map and in the source', async () => {
    for (const path of ['../x.h', '/etc/passwd', 'a/../../b.h']) {
      const res = await compile({ includes: { [path]: 'int y;' } });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res).code).toBe('LBC_ERR_INCLUDE_FORBIDDEN');
    }
    const inSource = await compile({ source: '#include "/etc/passwd"\n' });
    expect(errorOf(inSource).code).toBe('LBC_ERR_INCLUDE_FORBIDDEN');
    const digraph = await compile({ source: '%:include "../../etc/shadow"\n' });
    expect(errorOf(digraph).code).toBe('LBC_ERR_INCLUDE_FORBIDDEN');
  });

  it('include names that cannot be files of the program are 400s naming them, before any job exists', async () => {
    const cases: [Record<string, string>, string, Record<string, unknown>][] = [
      [{ q: 'int a;', 'q/b': 'int b;' }, 'q/b', { conflictsWith: 'q' }],
      [{ ['x'.repeat(300)]: 'int a;' }, 'x'.repeat(300), { limit: 255 }],
      [{ 'a//b.h': '' }, 'a//b.h', {}],
      [{ './a.h': '' }, './a.h', {}],
      [{ 'a\u0000.h': '' }, 'a\u0000.h', {}],
      [{ 'hello.bpf.c': '' }, 'hello.bpf.c', { conflictsWith: 'hello.bpf.c' }],
      [{ 'hello.bpf.c/x.h': '' }, 'hello.bpf.c/x.h', { conflictsWith: 'hello.bpf.c' }],
    ];
    const jobsBefore = await h.producer.queue.getJobCounts();
    for (const [includes, path, extra] of cases) {
      const res = await compile({ includes });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: 'LBC_ERR_INCLUDE_NAME_INVALID', details: { field: 'includes', path, ...extra } });
      expect(res.body).not.toContain(h.config.dataDir);
    }
    expect(await h.producer.queue.getJobCounts()).toEqual(jobsBefore);
  });

  it('a failed job answers without the host paths its worker quoted (GET /v1/jobs/:id)', async () => {
    const data = { cacheKey: sha256Of(Buffer.from(`scrub-${Date.now()}`)), name: 'hello', source: 'int x;', includes: {}, cflags: [], btfSha256: 'a'.repeat(64), arch: 'x86_64', toolchain: 'test-toolchain' };
    const job = await h.producer.submit(data);
    // Submitted as the API would for this loopback caller (tenant 'local'): a job is readable by its submitters only.
    await addJobReader(h.redisOwner.command, job.id!, 'local');
    const worker = new Worker(COMPILE_QUEUE, async () => {
      throw new UnrecoverableError(`EEXIST: file already exists, mkdir '${h.config.dataDir}/jobs/job-Zx81/src/q' (${h.config.dataDir}/kernel-sets)`);
    }, { connection: new Redis(h.redis.url, { maxRetriesPerRequest: null }) });
    try {
      await job.waitUntilFinished(h.producer.events).catch(() => {});
      const res = await h.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ state: 'failed', error: { code: 'LBC_ERR_SANDBOX' } });
      expect(res.json().error.message).toContain("mkdir '<job>/src/q' (<data>/kernel-sets)");
      expect(res.body).not.toContain(h.config.dataDir);
    } finally {
      await worker.close();
    }
  });

  it('an oversized body is a 413, and so is a source over its limit', async () => {
    const huge = 'x'.repeat(8 * 1024 * 1024);
    const res = await compile({ source: huge });
    expect(res.statusCode).toBe(413);
    expect(errorOf(res).code).toBe('LBC_ERR_BODY_TOO_LARGE');
    const over = await compile({ source: `// ${'y'.repeat(h.config.limits.maxSourceBytes)}` });
    expect(over.statusCode).toBe(413);
    expect(errorOf(over).details).toMatchObject({ field: 'source', limit: h.config.limits.maxSourceBytes });
  });

  it('malformed JSON is a 400', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/compile', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe('LBC_ERR_BAD_REQUEST');
  });
});

describe('kernels', () => {
  it('an unknown kernel is a 404 listing the nearest known ones', async () => {
    await h.registry.register({ btf: tinyBtf('near'), release: '6.1.0-48-cloud-amd64', arch: 'x86_64', distro: 'debian', source: 'upload' });
    await h.registry.register({ btf: tinyBtf('far'), release: '4.19.0-1-amd64', arch: 'x86_64', distro: 'debian', source: 'upload' });
    const res = await compile({});
    expect(res.statusCode).toBe(404);
    const err = errorOf(res);
    expect(err.code).toBe('LBC_ERR_KERNEL_UNKNOWN');
    const suggestions = err.details!.suggestions as { release: string }[];
    expect(suggestions.map((s) => s.release)).toEqual(['6.1.0-48-cloud-amd64', '4.19.0-1-amd64']);
  });

  it('uploads raw BTF (201, then 200), lists it, and accepts gzip by magic or Content-Encoding', async () => {
    const btf = readFileSync('/sys/kernel/btf/vmlinux');
    const sha = sha256Of(btf);
    const url = `/v1/kernels/${sha}?release=6.18.0-test&arch=x86_64&distro=debian`;
    const first = await h.app.inject({ method: 'PUT', url, headers: { 'content-type': 'application/octet-stream' }, payload: btf });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ btfSha256: sha, release: '6.18.0-test', arch: 'x86_64', distro: 'debian', source: 'upload', btfSize: btf.length });
    const gz = gzipSync(btf);
    const again = await h.app.inject({ method: 'PUT', url, headers: { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' }, payload: gz });
    expect(again.statusCode).toBe(200);
    const small = tinyBtf('gz');
    const gzOnly = await h.app.inject({ method: 'PUT', url: `/v1/kernels/${sha256Of(small)}?release=5.4.0&arch=aarch64`, headers: { 'content-type': 'application/gzip' }, payload: gzipSync(small) });
    expect(gzOnly.statusCode).toBe(201);
    const list = (await h.app.inject({ url: '/v1/kernels' })).json() as { kernels: { btfSha256: string }[] };
    expect(list.kernels.map((k) => k.btfSha256)).toEqual(expect.arrayContaining([sha, sha256Of(small)]));
    // The registered kernel resolves a compile target (404 no longer), and its BTF downloads.
    expect(h.registry.resolve({ release: '6.18.0-test', arch: 'x86_64' }).btfSha256).toBe(sha);
    const download = await h.app.inject({ url: `/v1/kernels/${sha}/btf` });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(btf)).toBe(true);
    expect((await h.app.inject({ url: `/v1/kernels/${'c'.repeat(64)}/btf` })).statusCode).toBe(404);
  });

  it('refuses a hash mismatch and bytes that are not BTF', async () => {
    const btf = tinyBtf('mismatch');
    const wrong = await h.app.inject({ method: 'PUT', url: `/v1/kernels/${'a'.repeat(64)}?release=1.0&arch=x86_64`, headers: { 'content-type': 'application/octet-stream' }, payload: btf });
    expect(wrong.statusCode).toBe(400);
    expect(errorOf(wrong)).toMatchObject({ code: 'LBC_ERR_BTF_HASH_MISMATCH', details: { actual: sha256Of(btf) } });
    const text = Buffer.from('this is an ELF? no, plain text pretending to be BTF');
    const notBtf = await h.app.inject({ method: 'PUT', url: `/v1/kernels/${sha256Of(text)}?release=1.0&arch=x86_64`, headers: { 'content-type': 'application/octet-stream' }, payload: text });
    expect(notBtf.statusCode).toBe(400);
    expect(errorOf(notBtf).code).toBe('LBC_ERR_BTF_INVALID');
    const noRelease = await h.app.inject({ method: 'PUT', url: `/v1/kernels/${sha256Of(btf)}?arch=x86_64`, headers: { 'content-type': 'application/octet-stream' }, payload: btf });
    expect(errorOf(noRelease).details).toEqual({ field: 'querystring/release' });
  });
});

describe('artifacts', () => {
  it('404 for an unknown object, bytes with immutable caching for a known one, 304 on a matching ETag', async () => {
    const missing = await h.app.inject({ url: `/v1/artifacts/${'b'.repeat(64)}` });
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing).code).toBe('LBC_ERR_ARTIFACT_NOT_FOUND');
    const bad = await h.app.inject({ url: '/v1/artifacts/not-a-sha' });
    expect(bad.statusCode).toBe(400);

    const object = Buffer.from('\x7fELF pretend object');
    const entry = h.cache.store('some-key', object);
    const res = await h.app.inject({ url: `/v1/artifacts/${entry.sha256}` });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(object)).toBe(true);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers.etag).toBe(`"${entry.sha256}"`);
    const notModified = await h.app.inject({ url: `/v1/artifacts/${entry.sha256}`, headers: { 'if-none-match': `"${entry.sha256}"` } });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.rawPayload.length).toBe(0);
  });

  it('a corrupted blob is never served', async () => {
    const entry = h.cache.store('other-key', Buffer.from('another object'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(h.blobs.pathOf(entry.sha256), 'flipped bits');
    const res = await h.app.inject({ url: `/v1/artifacts/${entry.sha256}` });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('flipped bits');
  });
});

describe('service endpoints', () => {
  it('/healthz, /v1/limits and an unknown route', async () => {
    expect((await h.app.inject({ url: '/healthz' })).json()).toEqual({ ok: true });
    expect((await h.app.inject({ url: '/v1/limits' })).json()).toEqual(h.config.limits);
    const nope = await h.app.inject({ url: '/v1/nope' });
    expect(nope.statusCode).toBe(404);
    expect(errorOf(nope).code).toBe('LBC_ERR_NOT_FOUND');
  });

  it('/readyz checks Redis, Docker and disk', async () => {
    const res = await h.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, checks: { redis: { ok: true }, docker: { ok: true }, disk: { ok: true, detail: expect.stringMatching(/MiB free/) } } });
    expect((res.json() as { checks: { docker: { detail?: string } } }).checks.docker.detail).toBeUndefined();
  });

  it('/metrics exposes requests, queue depth, compile time, cache events and in-flight', async () => {
    const text = (await h.app.inject({ url: '/metrics' })).body;
    for (const name of ['lbc_http_requests_total', 'lbc_queue_depth', 'lbc_compile_duration_seconds', 'lbc_cache_events_total', 'lbc_compiles_in_flight']) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/lbc_http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]/);
    expect(text).toMatch(/lbc_queue_depth\{state="waiting"\} 0/);
    expect(text).toMatch(/lbc_cache_events_total\{event="corrupt"\} [1-9]/);
  });

  it('/docs serves the OpenAPI description of every route', async () => {
    const res = await h.app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const spec = res.json() as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toMatch(/^3\./);
    for (const path of ['/v1/compile', '/v1/jobs/{id}', '/v1/artifacts/{sha256}', '/v1/kernels', '/v1/kernels/{sha256}', '/v1/kernels/{sha256}/btf', '/v1/limits', '/healthz', '/readyz']) {
      expect(Object.keys(spec.paths)).toContain(path);
    }
    expect((await h.app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
  });
});
