/**
 * A worker on another host than the API node that received a package gets it by hash through the
 * farm blob store: the file in its own store when there, else streamed over HTTP(S) from the node
 * on record in Redis as its holder (the farm credential for that hash) or from the S3 store,
 * bounded by the package's size, sha256 checked. Faults are played by a real HTTP server standing
 * in for the node, and by s3rver.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { BLOB_PATH_PREFIX, BLOB_TOKEN_HEADER, BlobStore, FarmBlobs, S3Blobs, blobToken, ensureFarmSecret, fetchedPackagesDir, ownerTag, redisKey, type IngestJobData } from '@lbc/core';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { useS3Server } from '@lbc/test-support/use-s3-server';
import { caught } from '@lbc/test-support/caught';
import { selfSignedCert } from '@lbc/test-support/self-signed';
import { obtainPackage, PackageFetchError, removeStaleFetches } from '../src/ingest/package-fetch.ts';

const bytes = randomBytes(256 * 1024);
const sha256 = createHash('sha256').update(bytes).digest('hex');
const job = (): IngestJobData => ({ packageSha256: sha256, fileName: 'p.btf', size: bytes.length, hints: {}, maxUnpackedBytes: 1 << 30 });

let privateRedis: PrivateRedis;
let redis: Redis;
let secret: string;
let dataDir: string;
let blobs: FarmBlobs;
let server: Server;
let origin: string;
/** What the stand-in API node does with the next request. */
let behave: (req: IncomingMessage, res: ServerResponse) => void;
const seenTokens: (string | undefined)[] = [];

beforeAll(async () => {
  privateRedis = await startPrivateRedis();
  redis = new Redis(privateRedis.url, { maxRetriesPerRequest: null });
  secret = await ensureFarmSecret(redis);
  server = createServer((req, res) => {
    seenTokens.push(req.headers[BLOB_TOKEN_HEADER] as string | undefined);
    behave(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  redis?.disconnect();
  await privateRedis?.stop();
});

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'lbc-fetch-test-'));
  blobs = new FarmBlobs({ disk: new BlobStore(join(dataDir, 'blobs')), redis });
});
/** Names the node(s) at `urls` as the package's holders in Redis, as the API node that received it does. */
const heldAt = async (...urls: string[]) => {
  await redis.del(redisKey.blobLocation(sha256));
  if (urls.length) await redis.sadd(redisKey.blobLocation(sha256), ...urls);
};
const opts = (extra: Record<string, unknown> = {}) => ({ dataDir, blobs, ...extra });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
afterEach(() => {
  seenTokens.length = 0;
  // Nothing a failed or released fetch leaves behind, and a working copy never joins the store.
  expect(readdirSync(fetchedPackagesDir(dataDir), { withFileTypes: true }).filter((e) => e.isFile())).toEqual([]);
  expect(blobs.disk.has(sha256)).toBe(false);
});

const serve = (body: Buffer, status = 200) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
};

describe('obtainPackage', () => {
  it("streams the package by hash from the node on record as holding it, with the farm's credential for that hash only", async () => {
    await heldAt(origin);
    behave = (req, res) => {
      expect(req.url).toBe(`${BLOB_PATH_PREFIX}${sha256}`);
      serve(bytes)(req, res);
    };
    const fractions: number[] = [];
    const pkg = await obtainPackage(job(), opts({ onProgress: (f: number) => fractions.push(f) }));
    expect(pkg.fetched).toBe(true);
    expect(pkg.path.startsWith(fetchedPackagesDir(dataDir))).toBe(true);
    expect(readFileSync(pkg.path).equals(bytes)).toBe(true);
    expect(seenTokens).toEqual([blobToken(secret, sha256)]);
    expect(seenTokens[0]).not.toBe(blobToken(secret, 'f'.repeat(64)));
    expect(fractions.at(-1)).toBe(1);
    await pkg.release();
    expect(existsSync(pkg.path)).toBe(false);
  });

  it("uses the package in the worker's own store when it is there (one host or shared storage), verified, without fetching", async () => {
    await heldAt(origin);
    const local = blobs.disk.pathOf(sha256);
    blobs.disk.put(bytes);
    try {
      const pkg = await obtainPackage(job(), opts());
      expect(pkg).toMatchObject({ path: local, fetched: false });
      await pkg.release();
      expect(existsSync(local)).toBe(true);
      expect(seenTokens).toEqual([]);
      // A local copy that is not what its name says is dropped, and the holder asked instead.
      writeFileSync(local, randomBytes(bytes.length));
      behave = serve(bytes);
      const fetched = await obtainPackage(job(), opts());
      expect(fetched.fetched).toBe(true);
      expect(readFileSync(fetched.path).equals(bytes)).toBe(true);
      await fetched.release();
      expect(existsSync(local)).toBe(false);
    } finally {
      rmSync(local, { force: true });
    }
  });

  it('a node that no longer holds the package (404), or sends forged bytes, fails the job for good', async () => {
    await heldAt(origin);
    behave = (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not here');
    };
    const gone = await caught(() => obtainPackage(job(), opts()));
    expect(gone).toBeInstanceOf(PackageFetchError);
    expect(gone).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', retryable: false });
    expect(gone.message).toMatch(/answered 404: not here/);
    // It holds it no longer: no node is asked again.
    expect(await redis.exists(redisKey.blobLocation(sha256))).toBe(0);

    await heldAt(origin);
    behave = serve(randomBytes(bytes.length));
    const other = await caught(() => obtainPackage(job(), opts()));
    expect(other).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', retryable: false });
    expect(other.message).toMatch(new RegExp(`sha256 [0-9a-f]{64}, not the ${sha256} asked for`));

    behave = serve(Buffer.concat([bytes, Buffer.from('x')]));
    expect(await caught(() => obtainPackage(job(), opts()))).toMatchObject({ retryable: false, message: expect.stringMatching(/announced 262145 bytes, not the 262144 expected/) });
  });

  it('a forged copy on one holder is refused and the package taken from the next', async () => {
    const forger = createServer(serve(randomBytes(bytes.length)));
    await new Promise<void>((r) => forger.listen(0, '127.0.0.1', r));
    const forgerUrl = `http://127.0.0.1:${(forger.address() as AddressInfo).port}`;
    try {
      await heldAt(forgerUrl, origin);
      behave = serve(bytes);
      const pkg = await obtainPackage(job(), opts());
      expect(createHash('sha256').update(readFileSync(pkg.path)).digest('hex')).toBe(sha256);
      await pkg.release();
    } finally {
      forger.closeAllConnections();
      await new Promise((r) => forger.close(r));
    }
  });

  it('a transfer cut off, stalled or refused is retryable (another attempt, maybe on another worker)', async () => {
    behave = (_req, res) => {
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, 1000), () => res.destroy());
    };
    await heldAt(origin);
    const cut = await caught(() => obtainPackage(job(), opts()));
    expect(cut).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', retryable: true });
    expect(cut.message).toMatch(/broke off after \d+ of 262144 bytes/);

    behave = (_req, res) => {
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, 1000));
    };
    const began = Date.now();
    const stalled = await caught(() => obtainPackage(job(), opts({ stallMs: 300 })));
    expect(stalled).toMatchObject({ retryable: true, message: expect.stringMatching(/no data for 0.3 s/) });
    expect(Date.now() - began).toBeLessThan(5000);
    server.closeAllConnections();

    behave = serve(Buffer.from('busy'), 503);
    expect(await caught(() => obtainPackage(job(), opts()))).toMatchObject({ retryable: true, message: expect.stringMatching(/answered 503: busy/) });

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await heldAt(`http://127.0.0.1:${deadPort}`);
    const refused = await caught(() => obtainPackage(job(), opts()));
    expect(refused).toMatchObject({ retryable: true, message: expect.stringMatching(/did not answer: .*ECONNREFUSED/) });
  });

  it('from an API node serving HTTPS (LBC_TLS_CERT): fetched when the worker trusts its CA, refused otherwise', async () => {
    const tlsDir = mkdtempSync(join(tmpdir(), 'lbc-fetch-tls-'));
    const { cert, key } = selfSignedCert(tlsDir, 'node');
    const other = selfSignedCert(tlsDir, 'other').cert;
    const https = createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, serve(bytes));
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    const httpsOrigin = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
    // The worker's process: NODE_EXTRA_CA_CERTS is read when node starts. Asynchronous, as this
    // process serves the package meanwhile.
    const fetchIn = async (ca: string) => {
      const child = join(import.meta.dirname, 'package-fetch-child.ts');
      await heldAt(httpsOrigin);
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child, privateRedis.url, dataDir, JSON.stringify(job())], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: ca },
      });
      return JSON.parse(stdout);
    };
    try {
      expect(await fetchIn(cert)).toEqual({ sha256, fetched: true });
      const refused = await fetchIn(other);
      expect(refused.error).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', retryable: true });
      expect(refused.error.message).toMatch(/did not answer: self[- ]signed certificate/);
    } finally {
      https.closeAllConnections();
      await new Promise((r) => https.close(r));
      rmSync(tlsDir, { recursive: true, force: true });
    }
  });

  it('without the package on disk and no node on record as holding it, it says so', async () => {
    await heldAt();
    const err = await caught(() => obtainPackage(job(), opts()));
    expect(err).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', retryable: true });
    expect(err.message).toMatch(/no node is on record as holding/);
  });

  it("removeStaleFetches removes copies of dead workers and keeps a live one's", async () => {
    const dir = fetchedPackagesDir(dataDir);
    const dead = join(dir, `${sha256}-999999999-00000000`);
    const deadHere = join(dir, `${sha256}-${ownerTag().replace(/^\d+/, '999999999')}-12345678`);
    const mine = join(dir, `${sha256}-${ownerTag()}-00000000`);
    // A worker in another pid namespace (a container sharing the data directory): its pid means nothing here.
    const elsewhere = join(dir, `${sha256}-999999999-1-00000000`);
    for (const f of [dead, deadHere, mine, elsewhere]) writeFileSync(f, 'x');
    expect(await removeStaleFetches(dataDir)).toBe(2);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(deadHere)).toBe(false);
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(elsewhere)).toBe(true);
    rmSync(mine);
    rmSync(elsewhere);
  });
});

describe('packages in an S3-compatible store', () => {
  const s3 = useS3Server();

  it('what the API node uploaded as a stream, a worker with its own disk and no location record streams back, verified; a forged object is refused', async () => {
    // The API node: the package received into its store, then published (a streamed PutObject).
    const apiDir = mkdtempSync(join(tmpdir(), 'lbc-fetch-s3-api-'));
    const api = new FarmBlobs({ disk: new BlobStore(join(apiDir, 'blobs')), redis, s3: new S3Blobs(s3.settings) });
    const worker = new FarmBlobs({ disk: new BlobStore(join(dataDir, 'blobs')), redis, s3: new S3Blobs(s3.settings) });
    try {
      const received = join(apiDir, 'upload');
      writeFileSync(received, bytes);
      await api.disk.adopt(received, sha256);
      await api.publishFile(sha256);
      await heldAt();
      const fractions: number[] = [];
      const pkg = await obtainPackage(job(), { dataDir, blobs: worker, onProgress: (f) => fractions.push(f) });
      expect(pkg.fetched).toBe(true);
      expect(readFileSync(pkg.path).equals(bytes)).toBe(true);
      expect(fractions.at(-1)).toBe(1);
      await pkg.release();
      expect(await redis.exists(redisKey.blobLocation(sha256))).toBe(0);

      // Other bytes under the package's name in the bucket: refused, for good.
      await new S3Blobs(s3.settings).put(sha256, randomBytes(bytes.length));
      const forged = await caught(() => obtainPackage(job(), { dataDir, blobs: worker }));
      expect(forged).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', retryable: false, message: expect.stringMatching(/the S3 store \(lbc-test\) sent bytes with sha256/) });

      // Removed everywhere once ingested: the bucket holds it no more.
      await api.drop(sha256, { everywhere: true });
      const gone = await caught(() => obtainPackage(job(), { dataDir, blobs: worker }));
      expect(gone).toMatchObject({ retryable: false, message: expect.stringMatching(/holds no/) });
      expect(api.disk.has(sha256)).toBe(false);
    } finally {
      api.close();
      worker.close();
      rmSync(apiDir, { recursive: true, force: true });
    }
  });
});
