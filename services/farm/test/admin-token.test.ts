/**
 * `lbc-admin token create|list|revoke` as an operator runs it, on a farm data directory: the token
 * is printed once and only its hash is stored; the token store the API verifies with accepts it,
 * and refuses it once revoked.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { openDatabase } from '@lbc/core';
import { TOKENS_KEY, TokenStore, hashToken } from '@lbc/api';
import { startPrivateRedis } from '@lbc/test-support/redis';

const BIN = fileURLToPath(new URL('../bin/lbc-admin.mjs', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'lbc-admin-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function admin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return adminWith({}, ...args);
}

async function adminWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const base: NodeJS.ProcessEnv = { ...process.env, LBC_DATA_DIR: dataDir };
    delete base.REDIS_URL;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...base, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function verify(token: string) {
  const db = openDatabase(dataDir);
  try {
    return new TokenStore(db).verify(token);
  } finally {
    db.close();
  }
}

describe('lbc-admin token', () => {
  let tenantToken = '';

  it('create prints the token once on stdout (the note on stderr); the database holds only its hash', async () => {
    const created = await admin('token', 'create', '--tenant', 'alice', '--label', 'laptop');
    expect(created.code).toBe(0);
    tenantToken = created.stdout.trim();
    expect(tenantToken).toMatch(/^lbc_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/token 1 for tenant alice: shown once/);
    expect(verify(tenantToken)).toEqual({ tokenId: 1, tenant: 'alice', admin: false });
    for (const file of readdirSync(dataDir).filter((f) => f.startsWith('lbc.sqlite'))) {
      expect(readFileSync(join(dataDir, file)).includes(tenantToken)).toBe(false);
    }

    const adminJson = await admin('--data-dir', dataDir, 'token', 'create', '--tenant', 'ops', '--admin', '--json');
    expect(JSON.parse(adminJson.stdout)).toMatchObject({ id: 2, tenant: 'ops', admin: true, revokedAt: null, token: expect.stringMatching(/^lbc_/) });
  });

  it('list shows ids, tenants and roles, never a token', async () => {
    const listed = await admin('token', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^1\talice\ttenant\t\S+\tlive\tlaptop$/m);
    expect(listed.stdout).toMatch(/^2\tops\tadmin\t/m);
    expect(listed.stdout).not.toContain('lbc_');
    const json = JSON.parse((await admin('token', 'list', '--json')).stdout) as { id: number }[];
    expect(json.map((t) => t.id)).toEqual([1, 2]);
  });

  it('revoke makes the token invalid; an unknown id or a bad tenant name is a clear error with exit code 1', async () => {
    const revoked = await admin('token', 'revoke', '1');
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe('revoked token 1 of tenant alice\n');
    expect(verify(tenantToken)).toBeNull();
    expect((await admin('token', 'list')).stdout).toMatch(/^1\talice\ttenant\t\S+\trevoked \S+\tlaptop$/m);

    const unknown = await admin('token', 'revoke', '42');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('LBC_ERR_TOKEN_NOT_FOUND: No such token: id 42');
    const badName = await admin('token', 'create', '--tenant', 'Alice Smith');
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/--tenant <name>.*invalid.*lower-case letters/);
    const noTenant = await admin('token', 'create');
    expect(noTenant.code).toBe(1);
    expect(noTenant.stderr).toMatch(/required option '--tenant <name>'/);
  });

  it('with REDIS_URL (a farm of several API nodes) create and revoke reach the shared token hashes at once; a dead Redis is a warning', async () => {
    const redis = await startPrivateRedis();
    const client = new Redis(redis.url);
    try {
      const created = await adminWith({ REDIS_URL: redis.url }, 'token', 'create', '--tenant', 'zed', '--json');
      const { id, token } = JSON.parse(created.stdout) as { id: number; token: string };
      expect(JSON.parse((await client.hget(TOKENS_KEY, hashToken(token)))!)).toEqual({ tokenId: id, tenant: 'zed', admin: false });
      // Revoked earlier without Redis: withdrawn now too.
      expect(await client.hget(TOKENS_KEY, hashToken(tenantToken))).toBeNull();

      expect((await adminWith({ REDIS_URL: redis.url }, 'token', 'revoke', String(id))).code).toBe(0);
      expect(await client.hget(TOKENS_KEY, hashToken(token))).toBeNull();
    } finally {
      client.disconnect();
      await redis.stop();
    }
    const offline = await adminWith({ REDIS_URL: 'redis://127.0.0.1:1' }, 'token', 'create', '--tenant', 'yve');
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/^lbc_/);
    expect(offline.stderr).toMatch(/warning: not shared with the other API nodes .*shares it when it next starts/);
  });
});
