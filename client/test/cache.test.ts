import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectCache, requestKey, resolveCacheDir, writeFileAtomic } from '../src/cache/index.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const target = { release: '6.18.44', arch: 'x86_64' as const, btfSha256: 'a'.repeat(64) };

describe('local object cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lbc-cache-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores an object under the request key and reads it back verified', () => {
    const cache = new ObjectCache(dir);
    const object = Buffer.from('\x7fELF fake object bytes');
    const key = requestKey({ name: 'hello', source: 'int x;', includes: {}, cflags: [], target });
    expect(cache.get(key)).toBeNull();
    cache.put(key, { cacheKey: 'k', artifactSha256: sha(object), warnings: '', createdAt: new Date().toISOString() }, object);
    const hit = cache.get(key);
    expect(hit?.object.equals(object)).toBe(true);
    expect(hit?.entry.cacheKey).toBe('k');
    // No temp files left behind by the atomic writes.
    expect(readdirSync(join(dir, 'objects')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('drops an object whose bytes no longer match their hash', () => {
    const cache = new ObjectCache(dir);
    const object = Buffer.from('good bytes');
    const key = requestKey({ name: 'hello', source: 's', includes: {}, cflags: [], target });
    cache.put(key, { cacheKey: 'k', artifactSha256: sha(object), warnings: '', createdAt: '' }, object);
    writeFileSync(cache.objectPath(sha(object)), 'tampered');
    expect(cache.get(key)).toBeNull();
    expect(readdirSync(join(dir, 'objects'))).toEqual([]);
  });

  it('what a machine crash may leave of a put (written without fsync) is a miss that is dropped, and stored again', () => {
    const cache = new ObjectCache(dir);
    const object = Buffer.from('\x7fELF object bytes');
    const entry = { cacheKey: 'k', artifactSha256: sha(object), warnings: '', createdAt: '' };
    const key = requestKey({ name: 'hello', source: 'crash', includes: {}, cflags: [], target });
    const entryFile = join(dir, 'requests', `${key}.json`);
    const torn: Array<[string, () => void]> = [
      ['an empty entry', () => writeFileSync(entryFile, '')],
      ['an entry cut short', () => writeFileSync(entryFile, readFileSync(entryFile, 'utf8').slice(0, 20))],
      ['an empty object', () => writeFileSync(cache.objectPath(sha(object)), '')],
      ['no object', () => rmSync(cache.objectPath(sha(object)))],
    ];
    for (const [what, tear] of torn) {
      cache.put(key, entry, object);
      tear();
      expect(cache.get(key), what).toBeNull();
      expect(readdirSync(join(dir, 'requests')), what).toEqual([]);
    }
    cache.put(key, entry, object);
    expect(cache.get(key)?.object.equals(object)).toBe(true);
  });

  it('keys differ for every input that changes the object', () => {
    const base = { name: 'hello', source: 's', includes: { 'a.h': '1' }, cflags: ['-DX'], target };
    const keys = new Set([
      requestKey(base),
      requestKey({ ...base, name: 'other' }),
      requestKey({ ...base, source: 's2' }),
      requestKey({ ...base, includes: { 'a.h': '2' } }),
      requestKey({ ...base, cflags: ['-DY'] }),
      requestKey({ ...base, target: { ...target, btfSha256: 'b'.repeat(64) } }),
      requestKey({ ...base, target: { ...target, release: '6.1' } }),
    ]);
    expect(keys.size).toBe(7);
    expect(requestKey({ ...base, includes: { 'b.h': '', 'a.h': '1' } })).toBe(requestKey({ ...base, includes: { 'a.h': '1', 'b.h': '' } }));
  });

  it('resolves the cache dir from option, then LBC_CACHE, then ~/.cache/lbc', () => {
    const saved = process.env.LBC_CACHE;
    try {
      process.env.LBC_CACHE = join(dir, 'env');
      expect(resolveCacheDir(join(dir, 'opt'))).toBe(join(dir, 'opt'));
      expect(resolveCacheDir()).toBe(join(dir, 'env'));
      delete process.env.LBC_CACHE;
      expect(resolveCacheDir()).toMatch(/\/lbc$/);
    } finally {
      if (saved === undefined) delete process.env.LBC_CACHE;
      else process.env.LBC_CACHE = saved;
    }
  });

  it('writes atomically into missing directories', () => {
    const path = join(dir, 'a', 'b', 'c.bin');
    writeFileAtomic(path, Buffer.from('x'));
    writeFileAtomic(path, 'yz');
    expect(readFileSync(path, 'utf8')).toBe('yz');
  });

  it('without fsync (durable: false, a compiler output) still replaces the file whole and leaves no temp file', () => {
    const path = join(dir, 'out', 'x.bpf.o');
    writeFileAtomic(path, Buffer.from('old'), { durable: false });
    writeFileAtomic(path, Buffer.alloc(100_000, 7), { durable: false });
    expect(readFileSync(path).equals(Buffer.alloc(100_000, 7))).toBe(true);
    expect(readdirSync(join(dir, 'out'))).toEqual(['x.bpf.o']);
  });
});
