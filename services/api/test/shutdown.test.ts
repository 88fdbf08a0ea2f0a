/** Closing the API does not wait out compiles: requests waiting for one are answered 202 at once. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileAccepted } from '@lbc/contract';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.registry.register({ btf: tinyBtf('drain'), release: '6.1.0-2-amd64', arch: 'x86_64', source: 'upload' });
});
afterAll(async () => {
  await h?.close();
});

describe('shutdown', () => {
  it('answers waiting compile requests 202 when the app closes, leaving the job queued', async () => {
    const pending = h.app.inject({ method: 'POST', url: '/v1/compile', payload: { name: 'd', source: 'int d;', target: { release: '6.1.0-2-amd64', arch: 'x86_64' }, waitMs: 60_000 } });
    for (let i = 0; i < 200 && (await h.producer.waitingCount()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await h.producer.waitingCount()).toBe(1);
    const started = Date.now();
    await h.app.close();
    const res = await pending;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.statusCode).toBe(202);
    expect(await h.producer.getJob((res.json() as CompileAccepted).jobId)).not.toBeNull();
  });
});
