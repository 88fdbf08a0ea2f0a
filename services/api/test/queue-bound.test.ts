/**
 * Waiting has a bound: with no worker draining the queue, new compiles beyond LBC_MAX_QUEUED_JOBS
 * are refused with 503 LBC_ERR_QUEUE_FULL, while a request identical to a queued one still joins it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileAccepted, ErrorBody, JobStatus } from '@lbc/contract';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { maxQueuedJobs: 2, metricsAccess: 'tenant' } });
  await h.registry.register({ btf: tinyBtf('queued'), release: '6.1.0-1-amd64', arch: 'x86_64', source: 'upload' });
});
afterAll(async () => {
  await h?.close();
});

const compile = (source: string) =>
  h.app.inject({ method: 'POST', url: '/v1/compile', payload: { name: 'q', source, target: { release: '6.1.0-1-amd64', arch: 'x86_64' }, waitMs: 0 } });

describe('queue bound', () => {
  it('accepts up to the bound, joins identical requests, refuses the rest with LBC_ERR_QUEUE_FULL', async () => {
    const first = await compile('int a;');
    expect(first.statusCode).toBe(202);
    expect((await compile('int b;')).statusCode).toBe(202);
    const same = await compile('int a;');
    expect(same.statusCode).toBe(202);
    expect((same.json() as CompileAccepted).jobId).toBe((first.json() as CompileAccepted).jobId);
    const full = await compile('int c;');
    expect(full.statusCode).toBe(503);
    expect((full.json() as ErrorBody).error).toMatchObject({ code: 'LBC_ERR_QUEUE_FULL', details: { waiting: 2, limit: 2 } });
    expect(await h.producer.waitingCount()).toBe(2);

    const status = (await h.app.inject({ url: (first.json() as CompileAccepted).url })).json() as JobStatus;
    expect(status).toMatchObject({ state: 'waiting', progress: { stage: 'queued', percent: 0 } });
    expect((await h.app.inject({ url: '/metrics' })).body).toMatch(/lbc_queue_depth\{state="waiting"\} 2/);
  });
});
