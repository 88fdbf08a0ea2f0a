/**
 * The farm blob store across nodes: what one node wrote, another fetches by hash from it (Redis
 * holding only which node has it), verified — a corrupt copy is refetched or refused, never
 * returned — and the same through an S3-compatible store (s3rver) when the farm configures one.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { BLOB_LOCATION_TTL_SECONDS, BLOB_PATH_PREFIX, BLOB_TOKEN_HEADER, blobToken, boundLegacyLocationRecords, dropLegacyBlobKeys, ensureFarmSecret, redisKey, sha256Of } from '@lbc/core';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { useS3Server } from '@lbc/test-support/use-s3-server';
import { startBlobNode, type BlobNode } from '../src/farm/blob-node.ts';

let redisServer: PrivateRedis;
let redis: Redis;
let secret: string;
const dirs: string[] = [];
const nodes: BlobNode[] = [];

const node = async (extra: Partial<Parameters<typeof startBlobNode>[0]> = {}) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lbc-blob-node-'));
  dirs.push(dataDir);
  const started = await startBlobNode({ redis: redisServer.connect(), dataDir, ...extra });
  nodes.push(started);
  return { ...started, dataDir, file: (sha256: string) => started.blobs.disk.pathOf(sha256) };
};

beforeAll(async () => {
  redisServer = await startPrivateRedis();
  redis = redisServer.connect();
  secret = await ensureFarmSecret(redis);
});

afterAll(async () => {
  for (const n of nodes) await n.close();
  await redisServer?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('blobs fetched by hash from the node that holds them', () => {
  it('node B reads what node A wrote; Redis holds the location only, never the bytes', async () => {
    const a = await node();
    const b = await node();
    const bytes = randomBytes(256 * 1024);
    const sha256 = await a.blobs.put(bytes);
    expect(sha256).toBe(sha256Of(bytes));
    expect(await redis.smembers(redisKey.blobLocation(sha256))).toEqual([a.url]);
    expect(await b.blobs.has(sha256)).toBe(true);

    const got = await b.blobs.get(sha256);
    expect(got?.equals(bytes)).toBe(true);
    // B keeps its copy and is a holder now too.
    expect((await redis.smembers(redisKey.blobLocation(sha256))).sort()).toEqual([a.url, b.url].sort());
    const keys = await redis.keys('*');
    for (const key of keys) expect(Number(await redis.memory('USAGE', key))).toBeLessThan(4096);
    // A location record has a bounded life, as the compile records that lead to it.
    const ttl = await redis.ttl(redisKey.blobLocation(sha256));
    expect(ttl).toBeGreaterThan(BLOB_LOCATION_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(BLOB_LOCATION_TTL_SECONDS);
  });

  it('a location record is renewed when a node writes, fetches or serves the blob; once it lapses the blob is simply not found', async () => {
    const a = await node({ locationTtlSeconds: 3600 });
    const b = await node({ locationTtlSeconds: 3600 });
    const bytes = randomBytes(4096);
    const key = redisKey.blobLocation(sha256Of(bytes));
    const sha256 = await a.blobs.put(bytes);
    expect(await redis.ttl(key)).toBeGreaterThan(3500);
    // Nearly lapsed: B's fetch (A serves it, B keeps a copy) renews it.
    await redis.expire(key, 5);
    expect((await b.blobs.get(sha256))?.equals(bytes)).toBe(true);
    expect(await redis.ttl(key)).toBeGreaterThan(3500);
    // Nearly lapsed again: A serving it to a peer renews it too.
    await redis.expire(key, 5);
    const served = await fetch(`${a.url}${BLOB_PATH_PREFIX}${sha256}`, { headers: { [BLOB_TOKEN_HEADER]: blobToken(secret, sha256) } });
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    for (let i = 0; i < 50 && (await redis.ttl(key)) <= 5; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await redis.ttl(key)).toBeGreaterThan(3500);
    // Lapsed: a node without a copy finds nothing (the caller compiles, or ingests, again); the holders keep their copies.
    await redis.pexpire(key, 1);
    await new Promise((r) => setTimeout(r, 20));
    const c = await node();
    expect(await c.blobs.has(sha256)).toBe(false);
    expect(await c.blobs.get(sha256)).toBeNull();
    expect(a.blobs.disk.has(sha256)).toBe(true);
    // Written again by a holder (a kernel's BTF is, before its next compile): found again.
    await a.blobs.put(bytes);
    expect((await c.blobs.get(sha256))?.equals(bytes)).toBe(true);
  });

  it('a large blob goes as a file both ways, streamed and verified: never read whole into memory', async () => {
    const a = await node();
    const b = await node();
    const bytes = randomBytes(8 * 1024 * 1024);
    const sha256 = sha256Of(bytes);
    const upload = join(a.dataDir, 'upload');
    writeFileSync(upload, bytes);
    await a.blobs.disk.adopt(upload, sha256);
    await a.blobs.publishFile(sha256);
    expect(await redis.smembers(redisKey.blobLocation(sha256))).toEqual([a.url]);
    const got = await b.blobs.fetchFile(sha256, { size: bytes.length });
    expect(got.fetched).toBe(true);
    expect(got.path).toBe(b.file(sha256));
    expect(b.blobs.disk.read(sha256).status).toBe('ok');
    expect((await redis.smembers(redisKey.blobLocation(sha256))).sort()).toEqual([a.url, b.url].sort());
    // Dropped everywhere (an ingested package): no copy here, no record.
    await b.blobs.drop(sha256);
    expect(await redis.smembers(redisKey.blobLocation(sha256))).toEqual([a.url]);
    await a.blobs.drop(sha256, { everywhere: true });
    expect(await redis.exists(redisKey.blobLocation(sha256))).toBe(0);
    expect(a.blobs.disk.has(sha256)).toBe(false);
  });

  it('a corrupt copy on disk is dropped and fetched again from another holder; with no intact copy anywhere the read is refused', async () => {
    const a = await node();
    const b = await node();
    const bytes = randomBytes(64 * 1024);
    const sha256 = await a.blobs.put(bytes);
    expect((await b.blobs.get(sha256))?.equals(bytes)).toBe(true);

    writeFileSync(b.file(sha256), Buffer.concat([bytes.subarray(0, 100), Buffer.from('flipped')]));
    expect((await b.blobs.get(sha256))?.equals(bytes)).toBe(true);

    // Corrupt on both: A answers 404 for its (dropped) copy, B drops its own: nothing is served.
    writeFileSync(a.file(sha256), 'garbage');
    writeFileSync(b.file(sha256), 'garbage');
    expect(await b.blobs.get(sha256)).toBeNull();
    expect(readdirSync(join(b.dataDir, 'blobs', sha256.slice(0, 2)))).not.toContain(sha256);
    // Neither holds it: both records are gone, so no node is asked again.
    expect(await redis.smembers(redisKey.blobLocation(sha256))).toEqual([]);
    expect(await b.blobs.has(sha256)).toBe(false);
  });

  it('a holder answering more than a blob may be is cut off, not read into memory; the next holder is asked', async () => {
    const a = await node();
    const bytes = randomBytes(32 * 1024);
    const sha256 = await a.blobs.put(bytes);
    // A stale record naming a port something else took now: it answers 200 and streams without end.
    let sent = 0;
    let closed = false;
    const flood = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (!closed && sent < 512 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (!closed && sent < 512 * 1024 * 1024) res.once('drain', pump);
        else res.end();
      };
      res.on('close', () => (closed = true));
      pump();
    });
    await new Promise<void>((done) => flood.listen(0, '127.0.0.1', done));
    const floodUrl = `http://127.0.0.1:${(flood.address() as AddressInfo).port}`;
    try {
      await redis.sadd(redisKey.blobLocation(sha256), floodUrl);
      const b = await node({ maxBufferedBytes: 1024 * 1024 });
      const got = await b.blobs.get(sha256);
      // A's copy (intact) is what B returns, whichever holder it asked first; the flood never got far.
      expect(got?.equals(bytes)).toBe(true);
      expect(sent).toBeLessThan(64 * 1024 * 1024);
      // With only the flooding holder on record, nothing is returned.
      const lone = randomBytes(16);
      const loneSha = sha256Of(lone);
      await redis.sadd(redisKey.blobLocation(loneSha), floodUrl);
      sent = 0;
      closed = false;
      expect(await b.blobs.get(loneSha)).toBeNull();
      expect(sent).toBeLessThan(64 * 1024 * 1024);
    } finally {
      flood.closeAllConnections();
      await new Promise((done) => flood.close(done));
    }
  });

  it('a node answers only with the farm credential for that very hash', async () => {
    const a = await node();
    const one = await a.blobs.put(Buffer.from('one'));
    const two = await a.blobs.put(Buffer.from('two'));
    const ask = (sha256: string, token?: string) => fetch(`${a.url}${BLOB_PATH_PREFIX}${sha256}`, token ? { headers: { [BLOB_TOKEN_HEADER]: token } } : {});
    expect((await ask(one)).status).toBe(403);
    expect((await ask(one, blobToken(secret, two))).status).toBe(403);
    expect((await ask('%2e%2e%2fetc%2fpasswd', blobToken(secret, one))).status).toBe(400);
    const ok = await ask(one, blobToken(secret, one));
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).toString()).toBe('one');
  });
});

describe('blob bytes earlier versions kept in Redis', () => {
  it('are removed on start (objects, their cache-key records, kernel BTF); other keys stay', async () => {
    const sha = 'ab'.repeat(32);
    await redis.set(redisKey.legacyKernelBtf(sha), randomBytes(1024));
    await redis.hset(redisKey.legacyArtifact(sha), { bytes: randomBytes(1024), cacheKey: 'k' });
    await redis.set(redisKey.legacyArtifactKey('k'), sha);
    await redis.sadd(redisKey.blobLocation(sha), 'http://127.0.0.1:1');
    expect(await dropLegacyBlobKeys(redis)).toBe(3);
    expect(await redis.exists(redisKey.legacyKernelBtf(sha), redisKey.legacyArtifact(sha), redisKey.legacyArtifactKey('k'))).toBe(0);
    expect(await redis.exists(redisKey.blobLocation(sha))).toBe(1);
  });

  it('their location records, which had no TTL, are given one; records that have one keep it', async () => {
    const old = 'cd'.repeat(32);
    const current = 'ef'.repeat(32);
    await redis.sadd(redisKey.blobLocation(old), 'http://127.0.0.1:1');
    await redis.sadd(redisKey.blobLocation(current), 'http://127.0.0.1:2');
    await redis.expire(redisKey.blobLocation(current), 100);
    expect(await redis.ttl(redisKey.blobLocation(old))).toBe(-1);
    expect(await boundLegacyLocationRecords(redis, 3600)).toBeGreaterThanOrEqual(1);
    expect(await redis.ttl(redisKey.blobLocation(old))).toBeGreaterThan(3500);
    expect(await redis.ttl(redisKey.blobLocation(current))).toBeLessThanOrEqual(100);
    expect(await boundLegacyLocationRecords(redis, 3600)).toBe(0);
  });
});

describe('blobs in an S3-compatible store', () => {
  const s3 = useS3Server();

  it('what one node puts, another node (no endpoint, no location record) reads, verified', async () => {
    const a = await node({ s3: s3.settings });
    const b = await node({ s3: s3.settings });
    expect(a.url).toBeUndefined();
    const bytes = randomBytes(128 * 1024);
    const sha256 = await a.blobs.put(bytes);
    expect(await redis.exists(redisKey.blobLocation(sha256))).toBe(0);
    expect(await b.blobs.has(sha256)).toBe(true);
    expect((await b.blobs.get(sha256))?.equals(bytes)).toBe(true);

    // Bytes in the bucket that do not match their name are refused.
    const c = await node({ s3: s3.settings });
    const forged = Buffer.from('not what the hash says');
    const name = sha256Of(Buffer.from('the real thing'));
    await new (await import('@lbc/core')).S3Blobs(s3.settings).put(name, forged);
    expect(await c.blobs.get(name)).toBeNull();
  });
});
