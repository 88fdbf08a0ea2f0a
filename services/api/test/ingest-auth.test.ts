/** With tokens required, ingestion is an admin's: no token 401, a tenant's token 403, an admin's token ingests. */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';
import { startIngestApp, type IngestApp } from '@lbc/test-support/ingest-app';

let running: IngestApp;
let fx: FixtureBuilder;
const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-auth-'));

beforeAll(async () => {
  fx = new FixtureBuilder(dir);
  running = await startIngestApp({}, { config: { authMode: 'required' } });
});
afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (file: string, token?: string) =>
  running.app.inject({
    method: 'POST',
    url: '/v1/kernels/ingest',
    query: { name: basename(file), waitMs: '60000', release: '6.6.0-auth', arch: 'x86_64' },
    headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    payload: createReadStream(file),
  });

describe('ingestion with LBC_AUTH=required', () => {
  it('refuses no token and a tenant token, and ingests with an admin token', async () => {
    const btf = fx.rawBtf('auth_raw');
    const anonymous = await post(btf);
    expect(anonymous.statusCode).toBe(401);
    const tenant = running.tokens.create({ tenant: 'alice' });
    const asTenant = await post(btf, tenant.token);
    expect(asTenant.statusCode).toBe(403);
    expect(asTenant.json().error.code).toMatch(/^LBC_ERR_(FORBIDDEN|INGEST_FORBIDDEN)$/);
    expect(running.h.registry.list()).toHaveLength(0);

    const admin = running.tokens.create({ tenant: 'ops', admin: true });
    const asAdmin = await post(btf, admin.token);
    expect(asAdmin.statusCode, asAdmin.body).toBe(201);
    const { id } = asAdmin.json() as { id: string };
    const status = await running.app.inject({ method: 'GET', url: `/v1/kernels/ingest/${id}`, headers: { authorization: `Bearer ${tenant.token}` } });
    expect(status.statusCode).toBe(403);
    expect((await running.app.inject({ method: 'GET', url: `/v1/kernels/ingest/${id}`, headers: { authorization: `Bearer ${admin.token}` } })).json()).toMatchObject({ state: 'completed', kernel: { release: '6.6.0-auth' } });
  });
});
