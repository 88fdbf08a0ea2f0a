/**
 * POST /v1/kernels/ingest and GET /v1/kernels/ingest/:id over the real pipeline (private Redis,
 * SQLite, ingest worker, Docker): uploads stream in, server-side paths stay under their root,
 * the package twice is a no-op, bad packages answer their LBC_ERR_INGEST_* code and the API keeps
 * serving, and ingestion is an admin's (loopback) operation.
 */
import { createReadStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestStatus } from '@lbc/contract';
import type { ApiApp } from '@lbc/api';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';
import type { IngestHarness } from '@lbc/test-support/ingest-harness';
import { startIngestApp, type IngestApp } from '@lbc/test-support/ingest-app';

let running: IngestApp;
let h: IngestHarness;
let app: ApiApp;
let fx: FixtureBuilder;
const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-api-'));
const pathRoot = join(dir, 'server-side');

beforeAll(async () => {
  fx = new FixtureBuilder(dir);
  mkdirSync(pathRoot);
  running = await startIngestApp({ pathRoot });
  ({ app, h } = running);
});
afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

const upload = (file: string, query: Record<string, string | number> = {}, remoteAddress?: string) =>
  app.inject({
    method: 'POST',
    url: '/v1/kernels/ingest',
    query: { name: basename(file), waitMs: '60000', ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) },
    headers: { 'content-type': 'application/octet-stream' },
    payload: createReadStream(file),
    ...(remoteAddress ? { remoteAddress } : {}),
  });

const imageDeb = (n: number, tag: string) =>
  fx.deb({ name: `linux-image-6.1.0-${n}-cloud-amd64`, version: `6.1.${n}-1`, arch: 'amd64', files: { [`/boot/vmlinuz-6.1.0-${n}-cloud-amd64`]: fx.vmlinuz(fx.btfElf(tag), 'xz') }, compression: 'xz' });

describe('POST /v1/kernels/ingest', () => {
  it('registers an uploaded package (201), then answers the same package with the same kernel (200, duplicate)', async () => {
    const deb = imageDeb(80, 'api_upload');
    const first = await upload(deb);
    expect(first.statusCode, first.body).toBe(201);
    const status = first.json() as IngestStatus;
    expect(status).toMatchObject({ state: 'completed', kernel: { release: '6.1.0-80-cloud-amd64', arch: 'x86_64', distro: 'debian', source: 'package' } });
    const kernels = (await app.inject({ method: 'GET', url: '/v1/kernels' })).json() as { kernels: { btfSha256: string }[] };
    expect(kernels.kernels.map((k) => k.btfSha256)).toContain(status.kernel!.btfSha256);

    const again = await upload(deb);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: true, kernel: { btfSha256: status.kernel!.btfSha256 } });
  });

  it('answers 202 without waiting; GET /v1/kernels/ingest/:id follows it to completion', async () => {
    const res = await upload(imageDeb(81, 'api_async'), { waitMs: 0 });
    expect(res.statusCode).toBe(202);
    const { id } = res.json() as IngestStatus;
    let status: IngestStatus | undefined;
    for (let i = 0; i < 300 && status?.state !== 'completed'; i++) {
      status = (await app.inject({ method: 'GET', url: `/v1/kernels/ingest/${id}` })).json() as IngestStatus;
      if (status.state !== 'completed') await sleep(100);
    }
    expect(status).toMatchObject({ state: 'completed', progress: { stage: 'done', percent: 100 }, kernel: { release: '6.1.0-81-cloud-amd64' } });
  });

  it('ingests a server-side path under LBC_INGEST_PATH_ROOT, and refuses one outside it', async () => {
    const deb = imageDeb(82, 'api_path');
    const inside = join(pathRoot, basename(deb));
    rmSync(inside, { force: true });
    (await import('node:fs')).copyFileSync(deb, inside);
    const ok = await app.inject({ method: 'POST', url: '/v1/kernels/ingest', payload: { path: basename(deb), waitMs: 60000 } });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ kernel: { release: '6.1.0-82-cloud-amd64' } });
    const outside = await app.inject({ method: 'POST', url: '/v1/kernels/ingest', payload: { path: '../' + basename(deb) } });
    expect(outside.statusCode).toBe(403);
    expect(outside.json().error.code).toBe('LBC_ERR_INGEST_FORBIDDEN');
  });

  it('a bad package answers its code (422) and the API keeps serving', async () => {
    const res = await upload(fx.file('linux-image-6.1.0-83-cloud-amd64_6.1.83-1_amd64.deb', 'garbage, not an ar archive\n'));
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'LBC_ERR_INGEST_FORMAT', details: { id: expect.stringMatching(/^ingest-/) } });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const good = await upload(imageDeb(84, 'api_after_bad'));
    expect(good.statusCode).toBe(201);
  });

  it('refuses an upload over LBC_INGEST_MAX_BYTES with 413 while it streams', async () => {
    const saved = h.service.settings.maxBytes;
    h.service.settings.maxBytes = 1000;
    try {
      const res = await upload(imageDeb(85, 'api_too_big'));
      expect(res.statusCode).toBe(413);
      expect(res.json().error.code).toBe('LBC_ERR_INGEST_TOO_LARGE');
    } finally {
      h.service.settings.maxBytes = saved;
    }
  });

  it('is refused to anonymous clients that are not on loopback, and needs ?name= for uploads', async () => {
    const remote = await upload(imageDeb(86, 'api_remote'), {}, '10.1.2.3');
    expect([401, 403]).toContain(remote.statusCode);
    expect(remote.json().error.code).toMatch(/^LBC_ERR_(AUTH_REQUIRED|FORBIDDEN|INGEST_FORBIDDEN)$/);
    const noName = await app.inject({ method: 'POST', url: '/v1/kernels/ingest', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from('x') });
    expect(noName.statusCode).toBe(400);
    expect(noName.json().error.code).toBe('LBC_ERR_BAD_REQUEST');
  });
});
