/**
 * The dashboard in real headless Chromium against the real service (API + worker + Docker
 * sandbox) with tokens required: the page loads with the admin token given to the browser's Basic
 * prompt, shows the compiles the test just submitted (a failed compile's clang output readable),
 * the worker and the kernel catalogue; the queue board loads; a screenshot is kept in test-artifacts/.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { chromium, type Browser } from 'playwright-core';
import { isLbcError } from '@lbc/contract';
import { COMPILE_QUEUE, openDatabase } from '@lbc/core';
import { TokenStore } from '../src/auth/token-store.ts';
import { detectTarget } from 'lbc-client';
import { ServiceClient } from '../../../client/src/transport/index.ts';
import { wireTarget } from '../../../client/src/target/detect-target.ts';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { startService, type RunningService } from '@lbc/test-support/service';

const ARTIFACTS = resolve(import.meta.dirname, '../../../test-artifacts');
const CHROMIUM = '/usr/bin/chromium';

const GOOD = `#include "lbc.h"
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;
const BROKEN = `#include "lbc.h"
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) { return dashboard_undeclared_symbol; }
char LICENSE[] SEC("license") = "GPL";
`;

describe('dashboard (headless Chromium, real service, tokens required)', () => {
  let redis: PrivateRedis;
  let service: RunningService;
  let browser: Browser;
  let dataDir: string;
  let adminToken: string;
  let tenantToken: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lbc-dashboard-'));
    // Tokens exist before the service starts, as lbc-admin makes them on a fresh farm.
    const db = openDatabase(dataDir);
    const tokens = new TokenStore(db);
    adminToken = tokens.create({ tenant: 'ops', admin: true }).token;
    tenantToken = tokens.create({ tenant: 'alice' }).token;
    db.close();
    redis = await startPrivateRedis();
    // info: the request-id test reads the API's and the worker's log lines.
    service = await startService({ redisUrl: redis.url, dataDir, env: { LBC_AUTH: 'required', LBC_LOG_LEVEL: 'info' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  }, 200_000);
  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await redis?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the compiles just submitted, with the failed one’s clang diagnostics, the worker and the kernels', async () => {
    const client = new ServiceClient({ server: service.url, token: tenantToken });
    const target = wireTarget(detectTarget());
    try {
      const ok = await client.compile({ name: 'dash_ok', source: GOOD, target });
      expect(ok.cached).toBe(false);
      const failed = await client.compile({ name: 'dash_broken', source: BROKEN, target }).catch((e: unknown) => e);
      expect(isLbcError(failed, 'LBC_ERR_COMPILE')).toBe(true);
    } finally {
      await client.close();
    }

    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: adminToken }, viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${service.url}/dashboard`);
      expect(response?.status()).toBe(200);
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });

      const jobs = page.locator('#jobs tbody');
      await expect.poll(() => jobs.innerText(), { timeout: 15_000 }).toContain('dash_broken');
      const okRow = page.locator('#jobs tbody tr', { hasText: 'dash_ok' }).first();
      expect(await okRow.innerText()).toMatch(/alice[\s\S]*\bok\b/);
      const brokenRow = page.locator('#jobs tbody tr', { hasText: 'dash_broken' }).first();
      expect(await brokenRow.innerText()).toMatch(/alice[\s\S]*compile error/);
      // The diagnostics as the user got them: their own file name, clang's message.
      const diagnostics = await page.locator('pre.diagnostics').first().innerText();
      expect(diagnostics).toMatch(/dash_broken\.bpf\.c:3:\d+: error: use of undeclared identifier 'dashboard_undeclared_symbol'/);

      const workers = await page.locator('#workers tbody').innerText();
      expect(workers).toMatch(/\d+ \/ \d+/);
      expect(workers).toContain('ok');
      const kernels = await page.locator('#kernels tbody').innerText();
      expect(kernels).toContain(detectTarget().release);
      const queue = await page.locator('#queue').innerText();
      expect(queue).toMatch(/finished, last 5 min\s+2/);
      const latency = await page.locator('#latency').innerText();
      expect(latency).toMatch(/clang p50\s+\d+ ms/);

      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);

      // The BullMQ board, from the same login.
      await page.goto(`${service.url}/dashboard/queues`);
      await expect.poll(() => page.locator('body').innerText(), { timeout: 15_000 }).toContain('lbc-compile');
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-queues.png') });
    } finally {
      await context.close();
    }
  }, 120_000);

  it('without the admin token the browser is challenged for Basic credentials (401), and a tenant token is refused (403)', async () => {
    const anonymous = await browser.newContext();
    const tenant = await browser.newContext({ httpCredentials: { username: 'alice', password: tenantToken } });
    try {
      // Headless Chromium cannot show the login prompt: it fails the navigation after the 401 challenge.
      const page = await anonymous.newPage();
      const challenged = page.waitForResponse((r) => r.url().endsWith('/dashboard'));
      const navigation = await page.goto(`${service.url}/dashboard`).catch((e: Error) => e);
      expect(String(navigation)).toContain('ERR_INVALID_AUTH_CREDENTIALS');
      const challenge = await challenged;
      expect(challenge.status()).toBe(401);
      expect(await challenge.headerValue('www-authenticate')).toMatch(/^Basic realm="lbc"/);
      expect((await (await tenant.newPage()).goto(`${service.url}/dashboard`))?.status()).toBe(403);
    } finally {
      await anonymous.close();
      await tenant.close();
    }
  });

  it('one request id follows a compile from the API to the worker: answer header, API log, job data, job log, worker log', async () => {
    const res = await fetch(`${service.url}/v1/compile`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenantToken}`, 'content-type': 'application/json', 'x-request-id': 'e2e-trace-0001' },
      body: JSON.stringify({ name: 'dash_traced', source: GOOD.replace('return 0', 'return 1'), target: wireTarget(detectTarget()) }),
    });
    expect(res.status).toBe(200);
    // A tenant's chosen id is kept behind its credential's tag (it cannot take another trace's id).
    const requestId = res.headers.get('x-request-id')!;
    expect(requestId).toMatch(/^[0-9a-f]{8}-e2e-trace-0001$/);
    const { cacheKey } = (await res.json()) as { cacheKey: string };

    // A client of the test Redis: stop() disconnects it before the server goes (queue.close() leaves it open).
    const queue = new Queue(COMPILE_QUEUE, { connection: redis.connect() });
    try {
      const job = await queue.getJob(`compile-${cacheKey}`);
      expect(job?.data).toMatchObject({ requestId, tenant: 'alice' });
      const { logs } = await queue.getJobLogs(job!.id!);
      expect(logs.join('\n')).toMatch(new RegExp(`reqId=${requestId} tenant=alice worker=\\S+ attempt=1`));
    } finally {
      await queue.close();
    }
    const lines = service
      .log()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.reqId === requestId);
    expect(lines.find((l) => l.msg === 'compile answered')).toMatchObject({ tenant: 'alice', cacheKey });
    expect(lines.find((l) => l.component === 'worker' && l.msg === 'compiled')).toMatchObject({ tenant: 'alice', program: 'dash_traced', ok: true });
  });

  it('/metrics covers HTTP, queue, workers, compiles and the cache (admin token)', async () => {
    const res = await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^lbc_http_requests_total\{method="POST",route="\/v1\/compile",status="200"\} [1-9]/m);
    expect(text).toMatch(/^lbc_http_request_duration_seconds_count\{route="\/v1\/compile"\} [1-9]/m);
    expect(text).toMatch(/^lbc_queue_depth\{state="waiting"\} 0$/m);
    expect(text).toMatch(/^lbc_queue_depth\{state="completed"\} 3$/m);
    expect(text).toMatch(/^lbc_workers_alive 1$/m);
    expect(text).toMatch(/^lbc_compile_results_total\{outcome="ok"\} 2$/m);
    expect(text).toMatch(/^lbc_compile_results_total\{outcome="error"\} 1$/m);
    expect(text).toMatch(/^lbc_compile_duration_seconds_count 2$/m);
    expect(text).toMatch(/^lbc_cache_events_total\{event="store"\} 2$/m);
    expect(text).toMatch(/^lbc_auth_denied_total\{reason="forbidden"\} [1-9]/m);
  });
});
