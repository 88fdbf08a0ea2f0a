/**
 * lbc-admin runs on the service host and may read its data directory: that is what makes its user
 * an operator. Commands that go through the API (ingest) therefore need no token of their own: they
 * mint an admin token in the data directory's token store for the one run and revoke it at the end
 * (loopback callers are not admins: auth/access-policy.ts). Only the token's hash is stored, as for
 * every token, and the plain token never leaves this process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, openDatabase } from '@lbc/core';
import { TokenStore } from '@lbc/api';

export interface RunToken {
  token: string;
  revoke(): void;
}

/** null when the data directory holds no farm (lbc-admin on another host: give --token). */
export function mintRunToken(dataDir: string | undefined): RunToken | null {
  const config = loadConfig(process.env, dataDir ? { dataDir } : {});
  if (!existsSync(join(config.dataDir, 'lbc.sqlite'))) return null;
  const db = openDatabase(config.dataDir);
  try {
    const created = new TokenStore(db).create({ tenant: 'lbc-admin', admin: true, label: `lbc-admin run ${process.pid} (revoked when it ends)` });
    return {
      token: created.token,
      revoke: () => {
        const again = openDatabase(config.dataDir);
        try {
          new TokenStore(again).revoke(created.id);
        } finally {
          again.close();
        }
      },
    };
  } finally {
    db.close();
  }
}
