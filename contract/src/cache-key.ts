import { CanonicalHash } from './canonical-hash.ts';

export interface CacheKeyInput {
  source: string;
  includes: Record<string, string>;
  cflags: string[];
  btfSha256: string;
  arch: string;
  /** sha256 of lbc.h as mounted into the compile container. */
  lbcHeaderSha256: string;
  /** Compile image id + clang version. */
  toolchain: string;
  /** The result also carries the object's minimized BTF. */
  minBtf?: boolean;
}

/**
 * sha256 over a canonical encoding: every field length-prefixed in a fixed order, includes sorted
 * by path, cflags kept in order (their order is meaningful to clang). Changing this encoding
 * changes every key: bump CACHE_KEY_VERSION. Bump it too when the worker's recipe changes what
 * the same inputs produce (flags, post-processing): cached objects of the old recipe must not
 * answer for the new one. v2: objects are stripped of DWARF (llvm-strip -g).
 */
export const CACHE_KEY_VERSION = 2;

export function cacheKey(input: CacheKeyInput): string {
  const hash = new CanonicalHash(`lbc-cache-key-v${CACHE_KEY_VERSION}`)
    .field(input.source)
    .map(input.includes)
    .list(input.cflags)
    .field(input.btfSha256)
    .field(input.arch)
    .field(input.lbcHeaderSha256)
    .field(input.toolchain);
  // Appended only when asked for, so every key without it stays what it was.
  if (input.minBtf) hash.field('min-btf');
  return hash.hex();
}

/** BullMQ job ids may not contain ':'; one id per cache key makes identical requests share a job. */
export function jobIdFor(key: string): string {
  return `compile-${key}`;
}
