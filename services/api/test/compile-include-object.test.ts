/**
 * POST /v1/compile?include=object: a 200 answer carries the object (objectBase64), so a client's
 * cache hit is one round trip. Real farm: API (inject) → Redis → worker → compile container.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileAccepted, CompileResult, ErrorBody } from '@lbc/contract';
import { sha256Of } from '@lbc/core';
import { startFarm, type Farm } from '@lbc/test-support/api-farm';

let farm: Farm;
beforeAll(async () => {
  farm = await startFarm();
});
afterAll(async () => {
  await farm?.close();
});

const source = (tag: string) => `#include "lbc.h"
LBC_ARRAY(hits, u64, 1);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) { u32 k = 0; u64 *v = bpf_map_lookup_elem(&hits, &k); if (v) __sync_fetch_and_add(v, 1); return 0; /* ${tag} */ }
char LICENSE[] SEC("license") = "GPL";
`;
const compile = (query: string, src: string, waitMs = 60_000) =>
  farm.app.inject({ method: 'POST', url: `/v1/compile${query}`, payload: { name: 'inline', source: src, target: { release: farm.host.release, arch: farm.host.arch }, waitMs } });

describe('POST /v1/compile?include=object', () => {
  it('a compile and then a cache hit carry the object, the same bytes GET /v1/artifacts serves; without the flag the answer is as before', async () => {
    const first = await compile('?include=object', source('inline'));
    expect(first.statusCode).toBe(200);
    const compiled = first.json() as CompileResult;
    expect(compiled.cached).toBe(false);
    const download = await farm.app.inject({ url: compiled.artifact.url });
    expect(download.statusCode).toBe(200);
    const bytes = Buffer.from(compiled.objectBase64!, 'base64');
    expect(bytes.equals(download.rawPayload)).toBe(true);
    expect(sha256Of(bytes)).toBe(compiled.artifact.sha256);

    const hit = (await compile('?include=object', source('inline'))).json() as CompileResult;
    expect(hit).toMatchObject({ cached: true, cacheKey: compiled.cacheKey, artifact: compiled.artifact, objectBase64: compiled.objectBase64 });

    const plain = (await compile('', source('inline'))).json() as CompileResult;
    expect(plain.cached).toBe(true);
    expect(plain).not.toHaveProperty('objectBase64');
    // Other query parameters are ignored, as they always were.
    expect((await compile('?other=1', source('inline'))).json()).not.toHaveProperty('objectBase64');
  });

  it('an unknown include is a 400 naming the parameter; a job still running is a 202 as before', async () => {
    const bad = await compile('?include=everything', source('inline'));
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as ErrorBody).error).toMatchObject({ code: 'LBC_ERR_BAD_REQUEST', details: { field: 'querystring/include' } });

    const queued = await compile('?include=object', source('queued'), 0);
    expect(queued.statusCode).toBe(202);
    const accepted = queued.json() as CompileAccepted;
    expect(accepted.jobId).toBeTruthy();
    expect(accepted).not.toHaveProperty('objectBase64');
  });
});
