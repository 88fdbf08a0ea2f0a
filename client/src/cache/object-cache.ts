import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LbcError, SHA256_PATTERN } from '@lbc/contract';
import { writeFileAtomic } from './atomic-write.ts';

export interface CacheEntry {
  /** The service's cache key of the compile. */
  cacheKey: string;
  artifactSha256: string;
  /** BTF the service supplied for a kernel without its own (libbpf btf_custom_path). */
  btfCustomPath?: string;
  warnings: string;
  createdAt: string;
}

export interface CachedObject {
  entry: CacheEntry;
  object: Buffer;
}

/**
 * Objects on disk: `requests/<requestKey>.json` → entry, `objects/<sha256>.o` → bytes. Objects are
 * content-addressed, so two requests compiling to the same bytes share a file.
 */
export class ObjectCache {
  constructor(readonly dir: string) {}

  private entryPath(key: string): string {
    return join(this.dir, 'requests', `${key}.json`);
  }

  objectPath(sha256: string): string {
    return join(this.dir, 'objects', `${sha256}.o`);
  }

  /** A hit only if the object's bytes still hash to what was stored; anything else is dropped. */
  get(key: string): CachedObject | null {
    const path = this.entryPath(key);
    if (!existsSync(path)) return null;
    let entry: CacheEntry;
    try {
      entry = JSON.parse(readFileSync(path, 'utf8')) as CacheEntry;
    } catch {
      rmSync(path, { force: true });
      return null;
    }
    if (!SHA256_PATTERN.test(entry.artifactSha256 ?? '')) {
      rmSync(path, { force: true });
      return null;
    }
    const object = this.readObject(entry.artifactSha256);
    if (!object) {
      rmSync(path, { force: true });
      return null;
    }
    if (entry.btfCustomPath && !btfIntact(entry.btfCustomPath)) {
      rmSync(path, { force: true });
      return null;
    }
    return { entry, object };
  }

  readObject(sha256: string): Buffer | null {
    const path = this.objectPath(sha256);
    if (!existsSync(path)) return null;
    const bytes = readFileSync(path);
    if (createHash('sha256').update(bytes).digest('hex') !== sha256) {
      rmSync(path, { force: true });
      return null;
    }
    return bytes;
  }

  /** Stores only an object that hashes to the entry's sha256: the cache is trusted on every later start. */
  put(key: string, entry: CacheEntry, object: Buffer): void {
    const got = createHash('sha256').update(object).digest('hex');
    if (!SHA256_PATTERN.test(String(entry.artifactSha256)) || got !== entry.artifactSha256) {
      throw new LbcError('LBC_ERR_ARTIFACT_INTEGRITY', `not caching an object of sha256 ${got} as ${JSON.stringify(entry.artifactSha256)}`, { expected: entry.artifactSha256, got });
    }
    // Object first: an entry must never point at a missing object. Renamed into place whole, without
    // an fsync (two of them cost a cold `lbc run` 3-6 ms before its first event, more on a busy
    // disk): what a machine crash may leave torn is dropped by get(), which checks every entry and
    // object hash, and the object is compiled again.
    writeFileAtomic(this.objectPath(entry.artifactSha256), object, { durable: false });
    writeFileAtomic(this.entryPath(key), JSON.stringify(entry, null, 2), { durable: false });
  }
}

/** Service-supplied BTF is stored as <sha256>.btf: libbpf must never be handed a torn or altered file. */
function btfIntact(path: string): boolean {
  if (!existsSync(path)) return false;
  const expected = basename(path).replace(/\.btf$/, '');
  if (!SHA256_PATTERN.test(expected)) return true;
  if (createHash('sha256').update(readFileSync(path)).digest('hex') === expected) return true;
  rmSync(path, { force: true });
  return false;
}
