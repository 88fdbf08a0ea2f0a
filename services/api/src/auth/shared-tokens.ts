/**
 * Tokens shared by every API node of a farm through Redis (nodes share no disk, so each node's
 * SQLite knows only the tokens created on it). Only hashes cross Redis: field = sha256 of the token,
 * value = the principal. Revoking deletes the field, so every node refuses the token at once.
 */
import type { Redis } from 'ioredis';
import { redisKey } from '@lbc/core';
import type { Principal, TokenStore } from './token-store.ts';

export const TOKENS_KEY = redisKey.tokens();

export class SharedTokens {
  constructor(private readonly redis: Redis) {}

  async publish(tokenHash: string, principal: Principal): Promise<void> {
    await this.redis.hset(TOKENS_KEY, tokenHash, JSON.stringify(principal));
  }

  async withdraw(tokenHash: string): Promise<void> {
    await this.redis.hdel(TOKENS_KEY, tokenHash);
  }

  async lookup(tokenHash: string): Promise<Principal | null> {
    const raw = await this.redis.hget(TOKENS_KEY, tokenHash);
    return raw ? (JSON.parse(raw) as Principal) : null;
  }

  /**
   * Brings Redis in line with one node's store (at API start, and after lbc-admin changed it):
   * its live tokens published, its revoked ones withdrawn. Returns how many are live.
   */
  async syncFrom(store: TokenStore): Promise<number> {
    const tokens = store.all();
    if (tokens.length === 0) return 0;
    const batch = this.redis.multi();
    for (const t of tokens) {
      if (t.revoked) batch.hdel(TOKENS_KEY, t.tokenHash);
      else batch.hset(TOKENS_KEY, t.tokenHash, JSON.stringify(t.principal));
    }
    await batch.exec();
    return tokens.filter((t) => !t.revoked).length;
  }
}
