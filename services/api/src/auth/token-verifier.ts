/**
 * Is this token live, and whose is it: this node's store first (it also knows what was revoked
 * here), then the farm's shared token hashes in Redis (tokens created on other API nodes).
 */
import { hashToken, looksLikeToken, type Principal, type TokenStore } from './token-store.ts';
import { type SharedTokens } from './shared-tokens.ts';

export interface TokenVerifierDeps {
  store?: TokenStore;
  shared?: SharedTokens;
  /** Bounds the Redis lookup (a dead Redis is a quick 503, not a hung request). */
  guard: <T>(work: Promise<T>, what: string) => Promise<T>;
}

export class TokenVerifier {
  constructor(private readonly deps: TokenVerifierDeps) {}

  async verify(token: string): Promise<Principal | null> {
    if (!looksLikeToken(token)) return null;
    const tokenHash = hashToken(token);
    const local = this.deps.store?.lookup(tokenHash);
    if (local) return local.revoked ? null : local.principal;
    if (!this.deps.shared) return null;
    return this.deps.guard(this.deps.shared.lookup(tokenHash), 'reading shared tokens');
  }
}
