/**
 * Uploads written as the attacker wrote them, against the real service (API and worker in one
 * process): a 17 KB gzip that named 6.4 GB of strings and killed the process with "Reached heap
 * limit", and 59 bytes of two typedefs naming each other that spun bpftool for minutes. Each is
 * refused with an LBC_ERR_BTF_* code in seconds, and the same process answers /healthz after;
 * so is a gzip that inflates past the limit.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { ErrorBody } from '@lbc/contract';
import { nameBombBtf, typedefLoopBtf } from '@lbc/test-support/hostile-btf';
import { useServiceFixture } from '@lbc/test-support/service-fixture';

const fx = useServiceFixture('lbc-btf-upload-hostile-');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function upload(raw: Buffer, body: Buffer, contentType: string): Promise<{ status: number; error: ErrorBody['error']; ms: number }> {
  const t = performance.now();
  const res = await request(`${fx.service.url}/v1/kernels/${sha256(raw)}?release=6.18.0-evil&arch=x86_64`, {
    method: 'PUT',
    headers: { 'content-type': contentType },
    body,
    headersTimeout: 60_000,
  });
  const json = (await res.body.json()) as ErrorBody;
  return { status: res.statusCode, error: json.error, ms: performance.now() - t };
}

async function stillServing(): Promise<void> {
  expect(fx.service.process.exitCode).toBeNull();
  const res = await request(`${fx.service.url}/healthz`);
  expect(res.statusCode).toBe(200);
  expect(await res.body.json()).toEqual({ ok: true });
}

async function kernelsKnown(): Promise<string[]> {
  const res = await request(`${fx.service.url}/v1/kernels`);
  return ((await res.body.json()) as { kernels: { release: string }[] }).kernels.map((k) => k.release);
}

describe('hostile BTF uploads', () => {
  it('the name bomb (400 types naming suffixes of one 16 MB string, 17 KB gzipped) is a 400 in seconds; the server lives', async () => {
    const bomb = nameBombBtf();
    expect(bomb.gzip.length).toBeLessThan(20_000);
    const { status, error, ms } = await upload(bomb.raw, bomb.gzip, 'application/gzip');
    console.log(`name bomb refused in ${Math.round(ms)} ms: ${error.message}`);
    expect(status).toBe(400);
    expect(error.code).toBe('LBC_ERR_BTF_INVALID');
    expect(error.message).toMatch(/name at string offset 1 is 16777216 bytes long/);
    expect(ms).toBeLessThan(15_000);
    await stillServing();
  });

  it('ten bombs at once: every one refused, the server lives', async () => {
    const bomb = nameBombBtf();
    const answers = await Promise.all(Array.from({ length: 10 }, () => upload(bomb.raw, bomb.gzip, 'application/gzip')));
    expect(answers.map((a) => a.error.code)).toEqual(Array(10).fill('LBC_ERR_BTF_INVALID'));
    await stillServing();
  });

  it('two typedefs naming each other (59 bytes) are refused at upload, never registered', async () => {
    const loop = typedefLoopBtf();
    const { status, error } = await upload(loop, loop, 'application/octet-stream');
    expect(status).toBe(400);
    expect(error.code).toBe('LBC_ERR_BTF_INVALID');
    expect(error.message).toMatch(/type loop: typedef 1 'ping' → typedef 2 'pong' → back to type 1/);
    expect(await kernelsKnown()).not.toContain('6.18.0-evil');
    await stillServing();
  });

  it('a gzip that inflates past the BTF limit (65 MB of zeros in 64 KB) is a 413; corrupt gzip is a 400', async () => {
    const zeros = Buffer.alloc(65 << 20);
    const bomb = gzipSync(zeros, { level: 9 });
    expect(bomb.length).toBeLessThan(100_000);
    const big = await upload(zeros, bomb, 'application/gzip');
    expect(big.status).toBe(413);
    expect(big.error.code).toBe('LBC_ERR_BODY_TOO_LARGE');
    const corrupt = Buffer.concat([bomb.subarray(0, 20), Buffer.alloc(100, 0xff)]);
    const bad = await upload(corrupt, corrupt, 'application/gzip');
    expect(bad.status).toBe(400);
    expect(bad.error.code).toBe('LBC_ERR_BTF_INVALID');
    await stillServing();
  });
});
