/** An API harness with a token store in its own data directory, for the auth and quota suites. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type LbcConfig } from '@lbc/core';
import { TokenStore } from '@lbc/api';
import type { PrivateRedis } from './redis.ts';
import { startHarness, type Harness } from './api-harness.ts';

export interface AuthHarness extends Harness {
  tokens: TokenStore;
}

/**
 * redis: share another harness's Redis (a second API node of one farm). prepare: fill the token
 * store before the API starts (as lbc-admin does on a fresh farm).
 */
export async function startAuthHarness(config: Partial<LbcConfig>, redis?: PrivateRedis, prepare?: (tokens: TokenStore) => void): Promise<AuthHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lbc-auth-'));
  const db = openDatabase(dataDir);
  const tokens = new TokenStore(db);
  try {
    prepare?.(tokens);
    const h = await startHarness({ config: { dataDir, ...config }, deps: { tokens }, ...(redis ? { redis } : {}) });
    return {
      ...h,
      tokens,
      async close() {
        await h.close();
        db.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
