/**
 * Tenants of one farm against each other (LBC_AUTH=required, a shared cache): what one compiles must
 * not reach another through the cache, a remembered error or a job. Real API, Redis, worker, Docker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileAccepted, CompileResult, ErrorBody } from '@lbc/contract';
import { openDatabase, type Db, type LbcConfig } from '@lbc/core';
import { TokenStore } from '../src/auth/token-store.ts';
import { startFarm, type Farm } from '@lbc/test-support/api-farm';
import { bearer } from '@lbc/test-support/auth-harness';

const PROGRAM = (tag: string) => `#include "lbc.h"
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) { return 0; /* ${tag} */ }
char LICENSE[] SEC("license") = "GPL";
`;
const BROKEN = (tag: string) => `#include "lbc.h"\nint f(void) { return undeclared_${tag}; }\n`;

interface TenantFarm {
  farm: Farm;
  token: (tenant: string, admin?: boolean) => string;
  close(): Promise<void>;
}

async function startTenantFarm(config: Partial<LbcConfig>): Promise<TenantFarm> {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-tenants-'));
  const db: Db = openDatabase(dir);
  const tokens = new TokenStore(db);
  const farm = await startFarm({ config: { authMode: 'required', ...config }, deps: { tokens } });
  return {
    farm,
    token: (tenant, admin = false) => tokens.create({ tenant, admin }).token,
    async close() {
      await farm.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const compileAs = (f: Farm, token: string, name: string, source: string, waitMs = 60_000) =>
  f.app.inject({ method: 'POST', url: '/v1/compile', headers: bearer(token), payload: { name, source, target: { release: f.host.release, arch: f.host.arch }, waitMs } });
const objectOf = async (f: Farm, token: string, result: CompileResult) => (await f.app.inject({ url: result.artifact.url, headers: bearer(token) })).rawPayload;

describe('tenants on a shared cache (the default)', () => {
  let t: TenantFarm;
  let alice: string;
  let bob: string;
  let ops: string;
  beforeAll(async () => {
    t = await startTenantFarm({});
    alice = t.token('alice');
    bob = t.token('bob');
    ops = t.token('ops', true);
  });
  afterAll(async () => t?.close());

  it("bob compiling alice's source under his own name gets his own object: not a cache hit, no trace of her file name", async () => {
    const source = PROGRAM('shared-source');
    const hers = await compileAs(t.farm, alice, 'alice_secret_project', source);
    expect(hers.statusCode, hers.body).toBe(200);
    expect((await objectOf(t.farm, alice, hers.json())).includes('alice_secret_project')).toBe(true);
    const his = await compileAs(t.farm, bob, 'bob_prog', source);
    expect(his.statusCode, his.body).toBe(200);
    expect((his.json() as CompileResult).cached).toBe(false);
    expect((his.json() as CompileResult).cacheKey).not.toBe((hers.json() as CompileResult).cacheKey);
    const object = await objectOf(t.farm, bob, his.json());
    expect(object.includes('alice_secret_project')).toBe(false);
    expect(object.includes('bob_prog')).toBe(true);
  });

  it("a remembered compile error shows the asker's own file name, never another tenant's", async () => {
    const source = BROKEN('remembered');
    const hers = await compileAs(t.farm, alice, 'alice_secret_project', source);
    expect(hers.statusCode).toBe(422);
    expect(JSON.stringify(hers.json())).toContain('alice_secret_project.bpf.c');
    const his = await compileAs(t.farm, bob, 'bob_prog', source);
    expect(his.statusCode).toBe(422);
    const text = JSON.stringify(his.json());
    expect(text).toContain('bob_prog.bpf.c');
    expect(text).not.toContain('alice_secret_project');
  });

  it('a job is readable by the tenants whose requests made it and by admins; to others it does not exist', async () => {
    const queued = await compileAs(t.farm, alice, 'alice_job', PROGRAM('job-owner'), 0);
    expect(queued.statusCode, queued.body).toBe(202);
    const { url } = queued.json() as CompileAccepted;
    const asBob = await t.farm.app.inject({ url, headers: bearer(bob) });
    expect(asBob.statusCode).toBe(404);
    expect((asBob.json() as ErrorBody).error.code).toBe('LBC_ERR_JOB_NOT_FOUND');
    expect((await t.farm.app.inject({ url, headers: bearer(alice) })).statusCode).toBe(200);
    expect((await t.farm.app.inject({ url, headers: bearer(ops) })).statusCode).toBe(200);
    // Bob sending the identical request joins the job and may then follow it.
    const joined = await compileAs(t.farm, bob, 'alice_job', PROGRAM('job-owner'), 0);
    expect((joined.json() as CompileAccepted | CompileResult).cacheKey).toBe((queued.json() as CompileAccepted).cacheKey);
    if (joined.statusCode === 202) expect((await t.farm.app.inject({ url, headers: bearer(bob) })).statusCode).toBe(200);
  });
});

describe('LBC_CACHE_SCOPE=tenant', () => {
  let t: TenantFarm;
  beforeAll(async () => {
    t = await startTenantFarm({ cacheScope: 'tenant' });
  });
  afterAll(async () => t?.close());

  it('the very same request from two tenants is compiled for each: a hit never tells one tenant what another compiled', async () => {
    const alice = t.token('alice');
    const bob = t.token('bob');
    const source = PROGRAM('scoped');
    const hers = await compileAs(t.farm, alice, 'same_name', source);
    expect((hers.json() as CompileResult).cached).toBe(false);
    expect(((await compileAs(t.farm, alice, 'same_name', source)).json() as CompileResult).cached).toBe(true);
    const his = await compileAs(t.farm, bob, 'same_name', source);
    expect(his.statusCode).toBe(200);
    expect((his.json() as CompileResult).cached).toBe(false);
  });
});
