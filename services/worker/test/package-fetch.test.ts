/**
 * A worker on another host than the API node that received a package fetches it over HTTP(S): the
 * local file when there, else streamed from the origin with the farm credential, bounded by the
 * package's size, sha256 checked. Faults are played by a real HTTP server standing in for the node.
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
import { PACKAGE_TOKEN_HEADER, ensureFarmSecret, fetchedPackagesDir, ownerTag, packageFetchPath, packagePath, packageToken, type IngestJobData } from '@lbc/core';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { caught } from '@lbc/test-support/caught';
import { selfSignedCert } from '@lbc/test-support/self-signed';
import { obtainPackage, PackageFetchError, removeStaleFetches } from '../src/ingest/package-fetch.ts';

const bytes = randomBytes(256 * 1024);
const sha256 = createHash('sha256').update(bytes).digest('hex');
const job = (origin?: string): IngestJobData => ({ packageSha256: sha256, fileName: 'p.btf', size: bytes.length, hints: {}, maxUnpackedBytes: 1 << 30, ...(origin ? { origin } : {}) });

let privateRedis: PrivateRedis;
let redis: Redis;
let secret: string;
let dataDir: string;
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
    seenTokens.push(req.headers[PACKAGE_TOKEN_HEADER] as string | undefined);
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
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
afterEach(() => {
  seenTokens.length = 0;
  // Nothing a failed or released fetch leaves behind.
  expect(readdirSync(fetchedPackagesDir(dataDir), { withFileTypes: true }).filter((e) => e.isFile())).toEqual([]);
});

const serve = (body: Buffer, status = 200) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
};

describe('obtainPackage', () => {
  it("streams the package from the API node holding it, with the farm's credential for that package only", async () => {
    behave = (req, res) => {
      expect(req.url).toBe(packageFetchPath(sha256));
      serve(bytes)(req, res);
    };
    const fractions: number[] = [];
    const pkg = await obtainPackage(job(origin), { dataDir, redis, onProgress: (f) => fractions.push(f) });
    expect(pkg.fetched).toBe(true);
    expect(pkg.path.startsWith(fetchedPackagesDir(dataDir))).toBe(true);
    expect(readFileSync(pkg.path).equals(bytes)).toBe(true);
    expect(seenTokens).toEqual([packageToken(secret, sha256)]);
    expect(seenTokens[0]).not.toBe(packageToken(secret, 'f'.repeat(64)));
    expect(fractions.at(-1)).toBe(1);
    await pkg.release();
    expect(existsSync(pkg.path)).toBe(false);
  });

  it("uses the package on the worker's own disk when it is there (one host or shared storage), without fetching", async () => {
    const local = packagePath(dataDir, sha256);
    mkdirSync(join(local, '..'), { recursive: true });
    writeFileSync(local, bytes);
    try {
      const pkg = await obtainPackage(job(origin), { dataDir, redis });
      expect(pkg).toMatchObject({ path: local, fetched: false });
      await pkg.release();
      expect(existsSync(local)).toBe(true);
      expect(seenTokens).toEqual([]);
    } finally {
      rmSync(local);
    }
  });

  it('a node that no longer holds the package (404) or sends other bytes fails the job for good', async () => {
    behave = (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"LBC_ERR_INGEST_PACKAGE_NOT_FOUND"}}');
    };
    const gone = await caught(() => obtainPackage(job(origin), { dataDir, redis }));
    expect(gone).toBeInstanceOf(PackageFetchError);
    expect(gone).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', retryable: false });
    expect(gone.message).toMatch(/answered 404.*LBC_ERR_INGEST_PACKAGE_NOT_FOUND/);

    behave = serve(randomBytes(bytes.length));
    const other = await caught(() => obtainPackage(job(origin), { dataDir, redis }));
    expect(other).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', retryable: false });
    expect(other.message).toMatch(/sha256 [0-9a-f]{64}, not the package's/);

    behave = serve(Buffer.concat([bytes, Buffer.from('x')]));
    expect(await caught(() => obtainPackage(job(origin), { dataDir, redis }))).toMatchObject({ retryable: false, message: expect.stringMatching(/announced 262145 bytes, the job 262144/) });
  });

  it('a transfer cut off, stalled or refused is retryable (another attempt, maybe on another worker)', async () => {
    behave = (_req, res) => {
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, 1000), () => res.destroy());
    };
    const cut = await caught(() => obtainPackage(job(origin), { dataDir, redis }));
    expect(cut).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', retryable: true });
    expect(cut.message).toMatch(/broke off after \d+ of 262144 bytes/);

    behave = (_req, res) => {
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, 1000));
    };
    const began = Date.now();
    const stalled = await caught(() => obtainPackage(job(origin), { dataDir, redis, stallMs: 300 }));
    expect(stalled).toMatchObject({ retryable: true, message: expect.stringMatching(/no data for 0.3 s/) });
    expect(Date.now() - began).toBeLessThan(5000);
    server.closeAllConnections();

    behave = serve(Buffer.from('busy'), 503);
    expect(await caught(() => obtainPackage(job(origin), { dataDir, redis }))).toMatchObject({ retryable: true, message: expect.stringMatching(/answered 503: busy/) });

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await caught(() => obtainPackage(job(`http://127.0.0.1:${deadPort}`), { dataDir, redis }));
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
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child, privateRedis.url, dataDir, JSON.stringify(job(httpsOrigin))], {
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

  it('without the package on disk and no origin in the job, it says so', async () => {
    const err = await caught(() => obtainPackage(job(), { dataDir, redis }));
    expect(err).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', retryable: true });
    expect(err.message).toMatch(/names no API node to fetch it from/);
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
