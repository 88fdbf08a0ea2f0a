/**
 * The compiled-object cache: cache key → artifact row in SQLite, bytes in the blob store.
 * Size-bounded, least recently used first out. A blob whose bytes no longer match its sha256 is
 * dropped (rows and file) and reported as a miss, so it is recompiled instead of served.
 */
import { LbcError } from '@lbc/contract';
import type { Db } from './database.ts';
import { BlobStore, sha256Of } from './blob-store.ts';

export interface ArtifactEntry {
  cacheKey: string;
  sha256: string;
  size: number;
  createdAt: string;
  lastAccess: number;
  hits: number;
  /** Compiler warnings of the compile that produced the object. */
  warnings: string;
}

export type CacheEvent = 'hit' | 'miss' | 'corrupt' | 'evict' | 'store';

interface Row {
  cache_key: string;
  sha256: string;
  size: number;
  created_at: string;
  last_access: number;
  hits: number;
  warnings: string;
}

const toEntry = (r: Row): ArtifactEntry => ({
  cacheKey: r.cache_key,
  sha256: r.sha256,
  size: r.size,
  createdAt: r.created_at,
  lastAccess: r.last_access,
  hits: r.hits,
  warnings: r.warnings,
});

export class ArtifactCache {
  /** Called on every cache event; the API turns them into metrics. */
  onEvent: (event: CacheEvent) => void = () => {};

  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
    private readonly maxBytes: number,
  ) {}

  /** The entry of a cache key, its bytes verified; null on a miss (including a corrupt blob). */
  lookup(cacheKey: string): { entry: ArtifactEntry; bytes: Buffer } | null {
    const row = this.db.prepare('SELECT * FROM artifacts WHERE cache_key = ?').get(cacheKey) as Row | undefined;
    if (!row) {
      this.onEvent('miss');
      return null;
    }
    const bytes = this.readVerified(row.sha256);
    if (!bytes) {
      this.onEvent('miss');
      return null;
    }
    this.touch('cache_key = ?', cacheKey);
    this.onEvent('hit');
    return { entry: toEntry({ ...row, hits: row.hits + 1 }), bytes };
  }

  /** Bytes of an artifact by content hash, verified; null when unknown or corrupt. */
  readBySha(sha256: string): Buffer | null {
    const known = this.db.prepare('SELECT 1 FROM artifacts WHERE sha256 = ? LIMIT 1').get(sha256);
    if (!known) return null;
    const bytes = this.readVerified(sha256);
    if (bytes) this.touch('sha256 = ?', sha256);
    return bytes;
  }

  /** Stores an object under a cache key. expectedSha256, when given, must match the bytes. */
  store(cacheKey: string, bytes: Buffer, expectedSha256?: string, warnings = ''): ArtifactEntry {
    const sha256 = sha256Of(bytes);
    if (expectedSha256 && expectedSha256 !== sha256) {
      throw new LbcError('LBC_ERR_INTERNAL', `compiled object hash ${sha256} does not match the worker's ${expectedSha256}`);
    }
    // Already there and intact (the worker of this host published it): not written and fsynced again.
    if (this.blobs.read(sha256).status !== 'ok') this.blobs.put(bytes);
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO artifacts (cache_key, sha256, size, created_at, last_access, hits, warnings) VALUES (?, ?, ?, ?, ?, 0, ?)
         ON CONFLICT (cache_key) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, last_access = excluded.last_access, warnings = excluded.warnings`,
      )
      .run(cacheKey, sha256, bytes.length, new Date(now).toISOString(), now, warnings);
    this.onEvent('store');
    this.evict(cacheKey);
    const row = this.db.prepare('SELECT * FROM artifacts WHERE cache_key = ?').get(cacheKey) as Row;
    return toEntry(row);
  }

  /** Whether a key has an entry, without reading its bytes. */
  has(cacheKey: string): boolean {
    return this.db.prepare('SELECT 1 FROM artifacts WHERE cache_key = ?').get(cacheKey) !== undefined;
  }

  totalBytes(): number {
    return (this.db.prepare('SELECT COALESCE(SUM(size), 0) AS n FROM artifacts').get() as { n: number }).n;
  }

  entries(): ArtifactEntry[] {
    return (this.db.prepare('SELECT * FROM artifacts ORDER BY last_access').all() as Row[]).map(toEntry);
  }

  /** Removes least recently used entries until the cache fits, never the one just stored. */
  private evict(keep: string): void {
    let total = this.totalBytes();
    if (total <= this.maxBytes) return;
    const victims = this.db
      .prepare('SELECT cache_key, sha256, size FROM artifacts WHERE cache_key != ? ORDER BY last_access, created_at')
      .all(keep) as Pick<Row, 'cache_key' | 'sha256' | 'size'>[];
    for (const v of victims) {
      if (total <= this.maxBytes) break;
      this.db.prepare('DELETE FROM artifacts WHERE cache_key = ?').run(v.cache_key);
      // Another key may still produce the same object: keep its bytes then.
      if (!this.db.prepare('SELECT 1 FROM artifacts WHERE sha256 = ? LIMIT 1').get(v.sha256)) this.blobs.delete(v.sha256);
      total -= v.size;
      this.onEvent('evict');
    }
  }

  private readVerified(sha256: string): Buffer | null {
    const read = this.blobs.read(sha256);
    if (read.status === 'ok') return read.bytes;
    // Missing or corrupt: forget every key pointing at it so the next request recompiles.
    this.db.prepare('DELETE FROM artifacts WHERE sha256 = ?').run(sha256);
    if (read.status === 'corrupt') this.onEvent('corrupt');
    return null;
  }

  private touch(where: string, value: string): void {
    this.db.prepare(`UPDATE artifacts SET last_access = ?, hits = hits + 1 WHERE ${where}`).run(Date.now(), value);
  }
}
