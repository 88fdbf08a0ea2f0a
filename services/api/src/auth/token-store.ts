/**
 * Bearer tokens of tenants and admins, kept in SQLite as sha256 hashes. A token is 32 random bytes
 * (base64url, prefixed "lbc_" so it is recognisable in a leaked config); only its hash is stored, so
 * the plain token exists once, in the answer to create().
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '@lbc/core';

export interface TokenInfo {
  id: number;
  tenant: string;
  admin: boolean;
  label: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedToken extends TokenInfo {
  /** The plain token: shown once, never stored. */
  token: string;
}

export interface Principal {
  tokenId: number;
  tenant: string;
  admin: boolean;
}

/** Tenant names end up in logs, metrics labels and Redis keys: keep them plain. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

interface Row {
  id: number;
  tenant: string;
  admin: number;
  label: string;
  created_at: string;
  revoked_at: string | null;
}

const TOKEN_PREFIX = 'lbc_';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class TokenStore {
  constructor(private readonly db: Db) {}

  create(input: { tenant: string; admin?: boolean; label?: string }): CreatedToken {
    if (!TENANT_PATTERN.test(input.tenant)) {
      throw new Error(`tenant ${JSON.stringify(input.tenant)} must match ${TENANT_PATTERN} (lower-case letters, digits, . _ -)`);
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const createdAt = new Date().toISOString();
    const admin = input.admin ?? false;
    const label = input.label ?? '';
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO tokens (token_hash, tenant, admin, label, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(hashToken(token), input.tenant, admin ? 1 : 0, label, createdAt);
    return { id: Number(lastInsertRowid), tenant: input.tenant, admin, label, createdAt, revokedAt: null, token };
  }

  list(): TokenInfo[] {
    const rows = this.db.prepare('SELECT id, tenant, admin, label, created_at, revoked_at FROM tokens ORDER BY id').all() as Row[];
    return rows.map(toInfo);
  }

  /** True when the token existed and was live; revoking twice is harmless. */
  revoke(id: number): TokenInfo | null {
    this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(new Date().toISOString(), id);
    const row = this.db.prepare('SELECT id, tenant, admin, label, created_at, revoked_at FROM tokens WHERE id = ?').get(id) as Row | undefined;
    return row ? toInfo(row) : null;
  }

  /** The principal a live token stands for, or null (unknown or revoked). */
  verify(token: string): Principal | null {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const found = this.lookup(hashToken(token));
    return found && !found.revoked ? found.principal : null;
  }

  /** What this store knows of a token hash: unknown (null), live, or revoked. */
  lookup(tokenHash: string): { principal: Principal; revoked: boolean } | null {
    const row = this.db.prepare('SELECT id, tenant, admin, revoked_at FROM tokens WHERE token_hash = ?').get(tokenHash) as
      | Pick<Row, 'id' | 'tenant' | 'admin' | 'revoked_at'>
      | undefined;
    return row ? { principal: { tokenId: row.id, tenant: row.tenant, admin: row.admin === 1 }, revoked: row.revoked_at !== null } : null;
  }

  hashOf(id: number): string | null {
    const row = this.db.prepare('SELECT token_hash FROM tokens WHERE id = ?').get(id) as { token_hash: string } | undefined;
    return row?.token_hash ?? null;
  }

  /** Every token hash with its principal and state (for publishing to the other API nodes). */
  all(): { tokenHash: string; principal: Principal; revoked: boolean }[] {
    const rows = this.db.prepare('SELECT token_hash, id, tenant, admin, revoked_at FROM tokens').all() as (Row & { token_hash: string })[];
    return rows.map((r) => ({ tokenHash: r.token_hash, principal: { tokenId: r.id, tenant: r.tenant, admin: r.admin === 1 }, revoked: r.revoked_at !== null }));
  }
}

/** A presented token that cannot be one of ours is not worth a lookup. */
export const looksLikeToken = (token: string) => token.startsWith(TOKEN_PREFIX) && token.length < 256;

function toInfo(row: Row): TokenInfo {
  return { id: row.id, tenant: row.tenant, admin: row.admin === 1, label: row.label, createdAt: row.created_at, revokedAt: row.revoked_at };
}
