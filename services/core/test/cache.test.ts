import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactCache, BlobStore, openDatabase, sha256Of, type CacheEvent, type Db } from '@lbc/core';

let dir: string;
let db: Db;
let blobs: BlobStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lbc-cache-'));
  db = openDatabase(dir);
  blobs = new BlobStore(join(dir, 'blobs'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const object = (n: number, size = 1000) => Buffer.alloc(size, n);

describe('blob store', () => {
  it('writes under <sha[0:2]>/<sha> and leaves no temp file behind', () => {
    const bytes = Buffer.from('hello object');
    const sha = blobs.put(bytes);
    expect(sha).toBe(sha256Of(bytes));
    expect(readdirSync(join(dir, 'blobs', sha.slice(0, 2)))).toEqual([sha]);
    expect(readFileSync(blobs.pathOf(sha))).toEqual(bytes);
  });

  it('rewrites a corrupt blob in place when the same bytes are stored again', () => {
    const bytes = Buffer.from('payload');
    const sha = blobs.put(bytes);
    writeFileSync(blobs.pathOf(sha), 'tampered');
    blobs.put(bytes);
    expect(blobs.read(sha)).toEqual({ status: 'ok', bytes });
  });

  it('a blob whose bytes do not match its name is deleted and reported corrupt', () => {
    const sha = blobs.put(Buffer.from('good'));
    writeFileSync(blobs.pathOf(sha), 'bad!');
    const read = blobs.read(sha);
    expect(read.status).toBe('corrupt');
    expect(blobs.has(sha)).toBe(false);
    expect(blobs.read(sha).status).toBe('missing');
  });
});

describe('artifact cache', () => {
  it('hits after a store and counts hits', () => {
    const cache = new ArtifactCache(db, blobs, 1 << 20);
    expect(cache.lookup('k1')).toBeNull();
    const entry = cache.store('k1', object(1));
    const hit = cache.lookup('k1')!;
    expect(hit.entry.sha256).toBe(entry.sha256);
    expect(hit.bytes).toEqual(object(1));
    expect(cache.entries()[0]!.hits).toBe(1);
  });

  it('refuses an object whose hash is not the one the worker announced', () => {
    const cache = new ArtifactCache(db, blobs, 1 << 20);
    expect(() => cache.store('k', object(1), 'f'.repeat(64))).toThrow(/does not match/);
    expect(cache.lookup('k')).toBeNull();
  });

  it('evicts least recently used entries beyond the size bound', async () => {
    const cache = new ArtifactCache(db, blobs, 3500);
    const events: CacheEvent[] = [];
    cache.onEvent = (e) => events.push(e);
    const a = cache.store('a', object(1));
    await sleep(3);
    cache.store('b', object(2));
    await sleep(3);
    cache.store('c', object(3));
    await sleep(3);
    expect(cache.lookup('a')).not.toBeNull(); // a is now the most recently used
    await sleep(3);
    cache.store('d', object(4)); // 4000 bytes > 3500: b (least recent) goes
    expect(cache.entries().map((e) => e.cacheKey).sort()).toEqual(['a', 'c', 'd']);
    expect(cache.totalBytes()).toBe(3000);
    expect(blobs.has(sha256Of(object(2)))).toBe(false);
    expect(blobs.has(a.sha256)).toBe(true);
    expect(events.filter((e) => e === 'evict')).toHaveLength(1);
  });

  it('keeps a blob another key still points at when evicting', async () => {
    const cache = new ArtifactCache(db, blobs, 2500);
    cache.store('x1', object(7));
    await sleep(3);
    cache.store('x2', object(7));
    await sleep(3);
    cache.store('y', object(8)); // 3000 > 2500: x1 goes, its bytes stay for x2
    expect(cache.entries().map((e) => e.cacheKey).sort()).toEqual(['x2', 'y']);
    expect(cache.lookup('x2')!.bytes).toEqual(object(7));
  });

  it('a corrupted blob on disk is a miss (dropped, never served) and is rebuilt by the next store', () => {
    const cache = new ArtifactCache(db, blobs, 1 << 20);
    const events: CacheEvent[] = [];
    cache.onEvent = (e) => events.push(e);
    const entry = cache.store('k', object(5));
    const path = blobs.pathOf(entry.sha256);
    const bytes = readFileSync(path);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(path, bytes);

    expect(cache.readBySha(entry.sha256)).toBeNull();
    expect(events).toContain('corrupt');
    expect(cache.lookup('k')).toBeNull();
    expect(cache.entries()).toEqual([]);
    expect(blobs.has(entry.sha256)).toBe(false);

    cache.store('k', object(5));
    expect(cache.lookup('k')!.bytes).toEqual(object(5));
  });

  it('two handles on one data directory see each other (WAL, shared by API processes)', () => {
    const other = openDatabase(dir);
    try {
      new ArtifactCache(db, blobs, 1 << 20).store('shared', object(3));
      const seen = new ArtifactCache(other, new BlobStore(join(dir, 'blobs')), 1 << 20).lookup('shared');
      expect(seen?.bytes).toEqual(object(3));
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      other.close();
    }
  });
});
