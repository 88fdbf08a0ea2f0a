/**
 * The attacks of the security review against the real service (launcher: API + worker + sandbox),
 * each written as the attack and the expected refusal. Afterwards every response and every record
 * the farm keeps in Redis (job data, results, failures, logs) is searched for the data dir: no
 * host path may reach a caller.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { detectTarget } from 'lbc-client';
import { CompileProducer, RedisOwner, addJobReader, liveWorkers } from '@lbc/core';
import { wireTarget } from '../client/src/target/detect-target.ts';
import { useServiceFixture } from '@lbc/test-support/service-fixture';

const env = useServiceFixture('lbc-hostile-service-');
const target = wireTarget(detectTarget());
/** Every response body this file received, searched at the end. */
const answers: string[] = [];

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; text: string; json: any }> {
  const res = await request(`${env.service.url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const text = bytes.toString('latin1');
  answers.push(text);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, text, json };
}

const compile = (body: Record<string, unknown>) => call('POST', '/v1/compile', { name: 'hello', source: '#include "lbc.h"\nint x;\n', target, waitMs: 60_000, ...body });

const LICENSE = 'char LICENSE[] SEC("license") = "GPL";\n';

describe('hostile requests against the real service', () => {
  it('include names that cannot be files are 400 LBC_ERR_INCLUDE_NAME_INVALID, naming the name (not a 500 quoting the data dir)', async () => {
    for (const includes of [{ q: 'int a;', 'q/b': 'int b;' }, { ['k'.repeat(300)]: 'int a;' }, { 'a//b.h': '' }, { 'hello.bpf.c/x.h': '' }]) {
      const res = await compile({ includes });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('LBC_ERR_INCLUDE_NAME_INVALID');
      expect(Object.keys(includes)).toContain(res.json.error.details.path);
    }
  });

  it('form feed, vertical tab, BOM, NUL and spliced variants of #include/#embed of a host path are 400s', async () => {
    for (const source of ['\f#include "/etc/passwd"\n', '\v#embed "/proc/cmdline"\n', '\uFEFF#embed "/proc/cmdline"\n', '\0#include "/etc/passwd"\n', '#embe\\ \nd "/proc/cmdline"\n', '%:embed </proc/config.gz>\n']) {
      const res = await compile({ source });
      expect(res.status, JSON.stringify(source)).toBe(400);
      expect(res.json.error.code).toBe('LBC_ERR_INCLUDE_FORBIDDEN');
    }
  });

  it('a -D value ending in a backslash is 400 LBC_ERR_CFLAG_FORBIDDEN naming the flag', async () => {
    const res = await compile({ cflags: ['-DA=x\\', '-DB=1'] });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'LBC_ERR_CFLAG_FORBIDDEN', details: { flag: '-DA=x\\' } });
  });

  it('#embed of /proc/cmdline through a macro compiles, and the object holds nothing of the host kernel command line', async () => {
    const hostCmdline = readFileSync('/proc/cmdline', 'latin1').trim();
    const source = `#include "lbc.h"\n#define P "/proc/cmdline"\nconst char leak[] = {\n#embed P suffix(,)\n0 };\n${LICENSE}`;
    const res = await compile({ source });
    expect(res.status).toBe(200);
    const object = await call('GET', res.json.artifact.url);
    expect(object.status).toBe(200);
    expect(object.text).not.toContain(hostCmdline);
    expect(object.text).not.toContain(hostCmdline.slice(0, 32));
  });

  it('a job with bad include names that reaches a worker (an older API node) is a compile error, run once, never a retried sandbox fault', async () => {
    const redis = new Redis(env.redis.url);
    const owner = new RedisOwner({ url: env.redis.url, timeoutMs: 5000 });
    const producer = new CompileProducer({ redis: owner, maxQueuedJobs: 100, failureTtlSeconds: 60 });
    try {
      await producer.ready(5000);
      const [worker] = await liveWorkers(redis);
      const kernels = await call('GET', `/v1/kernels?release=${encodeURIComponent(target.release)}&arch=${target.arch}`);
      const kernel = kernels.json.kernels.find((k: { btfSha256: string }) => !target.btfSha256 || k.btfSha256 === target.btfSha256);
      const job = await producer.submit({
        cacheKey: randomBytes(32).toString('hex'),
        name: 'hello',
        source: '#include "lbc.h"\n',
        includes: { q: 'int a;', 'q/b': 'int b;' },
        cflags: [],
        btfSha256: kernel.btfSha256,
        arch: kernel.arch,
        toolchain: worker!.toolchain,
      });
      // Submitted as an API node would for this loopback caller (tenant 'local'): a job is readable by its submitters only.
      await addJobReader(redis, job.id!, 'local');
      await job.waitUntilFinished(producer.events, 60_000);
      const status = await call('GET', `/v1/jobs/${job.id}`);
      expect(status.json).toMatchObject({ state: 'completed', error: { code: 'LBC_ERR_COMPILE' } });
      expect(status.json.error.details.diagnostics).toMatch(/^LBC_ERR_INCLUDE_NAME_INVALID: .*"q\/b"/);
      expect((await producer.getJob(job.id!))!.attemptsMade).toBe(1);
    } finally {
      await producer.close();
      owner.close();
      redis.disconnect();
    }
  });
});

describe('after the attacks', () => {
  let records: { key: string; text: string }[] = [];
  beforeAll(async () => {
    const redis = new Redis(env.redis.url);
    try {
      for (const key of await redis.keys('*')) {
        const type = await redis.type(key);
        let parts: Buffer[] = [];
        if (type === 'string') parts = [(await redis.getBuffer(key))!];
        else if (type === 'hash') parts = await redis.hvalsBuffer(key);
        else if (type === 'list') parts = await redis.lrangeBuffer(key, 0, -1);
        else if (type === 'set') parts = await redis.smembersBuffer(key);
        else if (type === 'zset') parts = await redis.zrangeBuffer(key, 0, -1);
        else if (type === 'stream') parts = (await redis.xrangeBuffer(key, '-', '+')).flatMap(([, fields]) => fields);
        records.push({ key, text: Buffer.concat(parts).toString('latin1') });
      }
    } finally {
      redis.disconnect();
    }
  });
  afterAll(() => {
    records = [];
  });

  it('no response and no record in Redis (jobs, results, failures, logs) names the data dir', () => {
    expect(answers.length).toBeGreaterThan(10);
    expect(records.some((r) => r.key.includes('lbc-compile'))).toBe(true);
    const dataDir = env.service.dataDir;
    expect(answers.filter((a) => a.includes(dataDir))).toEqual([]);
    expect(records.filter((r) => r.text.includes(dataDir)).map((r) => r.key)).toEqual([]);
    expect(records.filter((r) => /\/jobs\/job-[A-Za-z0-9]/.test(r.text)).map((r) => r.key)).toEqual([]);
  });
});
