import { CanonicalHash } from './canonical-hash.ts';

export interface CacheKeyInput {
  /** The program's name: the main file is `${name}.bpf.c`, which reaches __FILE__, DWARF and diagnostics. */
  name: string;
  source: string;
  includes: Record<string, string>;
  cflags: string[];
  /**
   * The kernel set whose vmlinux.h the program is compiled against: the target's own, or the
   * arch's newest for a CO-RE compile (then every target of the arch shares the key).
   */
  btfSha256: string;
  arch: string;
  /** sha256 of lbc.h as mounted into the compile container. */
  lbcHeaderSha256: string;
  /** Compile image id + clang version. */
  toolchain: string;
  /** The result also carries the object's minimized BTF. */
  minBtf?: boolean;
  /**
   * Whose cache this is: absent on a shared cache (LBC_CACHE_SCOPE=shared), the tenant's name when
   * each tenant's compiles are cached apart (LBC_CACHE_SCOPE=tenant).
   */
  scope?: string;
}

/**
 * sha256 over a canonical encoding: every field length-prefixed in a fixed order, includes sorted
 * by path, cflags kept in order (their order is meaningful to clang). Changing this encoding
 * changes every key: bump CACHE_KEY_VERSION. Everything the object (or its diagnostics) depends on
 * is in the key, and the version is bumped too when the worker's recipe changes what the same
 * inputs produce (flags, post-processing): cached objects of the old recipe must not answer for the
 * new one. v2: the program's name (clang writes it into the object) and objects stripped of DWARF.
 * v3: DWARF 4 (its symbols number differently: .llvm_addrsig changes, .BTF and code do not).
 */
export const CACHE_KEY_VERSION = 3;

export function cacheKey(input: CacheKeyInput): string {
  const hash = new CanonicalHash(`lbc-cache-key-v${CACHE_KEY_VERSION}`)
    .field(input.name)
    .field(input.source)
    .map(input.includes)
    .list(input.cflags)
    .field(input.btfSha256)
    .field(input.arch)
    .field(input.lbcHeaderSha256)
    .field(input.toolchain);
  // Appended only when asked for, so every key without it stays what it was.
  if (input.minBtf) hash.field('min-btf');
  if (input.scope !== undefined) hash.field('scope').field(input.scope);
  return hash.hex();
}

/** BullMQ job ids may not contain ':'; one id per cache key makes identical requests share a job. */
export function jobIdFor(key: string): string {
  return `compile-${key}`;
}
