/**
 * The verify worker's boot images come by hash through the farm blob store: on the API node's host
 * the shared data directory's store holds them; a worker on another host (its own data directory,
 * its own blob node) streams the image from a node on record as holding it, checks it against the
 * sha256 and the size the job names, keeps it and is named a holder too. A corrupt copy is refused
 * (and the next holder asked); an image nobody holds is LBC_ERR_BOOT_IMAGE_NOT_FOUND. The same
 * through an S3-compatible store (s3rver), from the ingest worker's keepBootImage on. A listening
 * API (it serves its blobs) with a real ingest service, real Redis.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLbcError, type BootImageRef } from '@lbc/contract';
import { BlobStore, FarmBlobs, S3Blobs, redisKey, sha256Of, type BlobS3Settings } from '@lbc/core';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { startIngestApp, type IngestApp } from '@lbc/test-support/ingest-app';
import { useS3Server } from '@lbc/test-support/use-s3-server';
import { BootImageFiles } from '../src/verify/boot-image-file.ts';
import { startBlobNode, type BlobNode } from '../src/farm/blob-node.ts';
import { keepBootImage } from '../src/ingest/boot-image.ts';
import type { JobDir } from '../src/sandbox/job-dir.ts';

let running: IngestApp;
let image: BootImageRef;
let btfSha256: string;
/** Where the API node serves its blobs, as the location record names it. */
let apiUrl: string;
const bytes = Buffer.from('an arm64 Image, as far as this test is concerned '.repeat(1000));
const otherHost = mkdtempSync(join(tmpdir(), 'lbc-verify-worker-'));
const nodes: BlobNode[] = [];
let hostile: Server;
let hostileUrl: string;

/** A verify worker's blob node with its own data directory (another host). */
const workerNode = async (dir: string, s3?: BlobS3Settings) => {
  const node = await startBlobNode({ redis: running.h.privateRedis.connect(), dataDir: dir, ...(s3 ? { s3 } : {}) });
  nodes.push(node);
  return node;
};

beforeAll(async () => {
  running = await startIngestApp({}, { ingestWorker: false });
  await running.app.listen({ host: '127.0.0.1', port: 0 });
  const { kernel } = await running.h.registry.register({ btf: tinyBtf('verify_image'), release: '6.12.0-99-cloud-arm64', arch: 'aarch64', source: 'package' });
  btfSha256 = kernel.btfSha256;
  image = running.h.registry.attachBootImage(btfSha256, running.h.registry.putBootImage(bytes)).bootImage!;
  await running.h.registry.shareBootImage(btfSha256);
  for (let i = 0; i < 100 && !apiUrl; i++) {
    apiUrl = (await running.h.redis.smembers(redisKey.blobLocation(image.sha256)))[0]!;
    if (!apiUrl) await new Promise((r) => setTimeout(r, 50));
  }
  // A node on record that answers with other bytes of the image's very size.
  hostile = createServer((_req, res) => res.writeHead(200, { 'content-length': bytes.length }).end(Buffer.alloc(bytes.length, 0x41)));
  await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
  hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const node of nodes) await node.close();
  await new Promise((r) => hostile?.close(r));
  await running?.close();
  rmSync(otherHost, { recursive: true, force: true });
});

describe('boot images for the verify worker', () => {
  it('the API node announced the image it keeps, with a bounded life', async () => {
    expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await running.h.redis.ttl(redisKey.blobLocation(image.sha256))).toBeGreaterThan(0);
  });

  it("on the API node's host: the shared blob store's file, nothing fetched", async () => {
    const sameHost = new FarmBlobs({ disk: new BlobStore(join(running.h.dataDir, 'blobs')), redis: running.h.redis });
    expect(await new BootImageFiles(sameHost).path(image)).toBe(running.h.registry.bootImagePath(btfSha256));
  });

  it("on another host: fetched once by hash from the node holding it, checked, kept in the worker's own store, the worker named a holder", async () => {
    const node = await workerNode(otherHost);
    const files = new BootImageFiles(node.blobs);
    const [a, b] = await Promise.all([files.path(image), files.path(image)]);
    expect(a).toBe(b);
    expect(a.startsWith(otherHost)).toBe(true);
    expect(readFileSync(a).equals(bytes)).toBe(true);
    expect(await running.h.redis.smembers(redisKey.blobLocation(image.sha256))).toEqual(expect.arrayContaining([apiUrl, node.url]));
    // Kept: a later job needs no other node.
    await running.h.redis.srem(redisKey.blobLocation(image.sha256), apiUrl);
    expect(await new BootImageFiles(node.blobs).path(image)).toBe(a);
    await running.h.registry.shareBootImage(btfSha256);
  });

  it('a corrupt copy is refused, never kept; the next holder on record gives the intact one', async () => {
    const key = redisKey.blobLocation(image.sha256);
    await running.h.redis.del(key);
    await running.h.redis.sadd(key, hostileUrl);
    const dir = join(otherHost, 'corrupt-only');
    const node = await workerNode(dir);
    const err = await new BootImageFiles(node.blobs).path(image).catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_BOOT_IMAGE_NOT_FOUND'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/sha256|other bytes|hash/i);
    expect(existsSync(node.blobs.disk.pathOf(image.sha256))).toBe(false);
    // The API node on record again: the intact copy, whichever holder is asked first.
    await running.h.registry.shareBootImage(btfSha256);
    const path = await new BootImageFiles(node.blobs).path(image);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('an image nobody holds, or another size than the job says, is LBC_ERR_BOOT_IMAGE_NOT_FOUND', async () => {
    const node = await workerNode(join(otherHost, 'another-worker'));
    const files = new BootImageFiles(node.blobs);
    const nobody = await files.path({ sha256: 'ab'.repeat(32), size: 10 }).catch((e: unknown) => e);
    expect(isLbcError(nobody, 'LBC_ERR_BOOT_IMAGE_NOT_FOUND'), String(nobody)).toBe(true);
    const wrongSize = await files.path({ ...image, size: image.size + 1 }).catch((e: unknown) => e);
    expect(isLbcError(wrongSize, 'LBC_ERR_BOOT_IMAGE_NOT_FOUND'), String(wrongSize)).toBe(true);
    expect((wrongSize as Error).message).toContain(`not the ${image.size + 1} expected`);
  });
});

/** A job directory as the ingest container leaves it, with `out/boot-image` made by `write`. */
function jobDir(under: string, write: (file: string) => void): JobDir {
  const root = mkdtempSync(join(under, 'job-'));
  const job = { root, src: join(root, 'src'), out: join(root, 'out') };
  mkdirSync(job.src);
  mkdirSync(job.out);
  write(join(job.out, 'boot-image'));
  return job;
}

describe("boot images with the farm's S3 store", () => {
  const s3 = useS3Server();

  it('the ingest worker streams the image into its store and the bucket; a verify worker with its own disk fetches it from there; a forged object is refused', async () => {
    const imageBytes = Buffer.from('an x86 bzImage for the S3 store '.repeat(2000));
    const ingestNode = await workerNode(join(otherHost, 's3-ingest'), s3.settings);
    const job = jobDir(otherHost, (file) => writeFileSync(file, imageBytes));
    const ref = await keepBootImage(job, { blobs: ingestNode.blobs, maxBytes: 1 << 20 });
    expect(ref).toEqual({ sha256: sha256Of(imageBytes), size: imageBytes.length });
    expect(readFileSync(ingestNode.blobs.disk.pathOf(ref.sha256)).equals(imageBytes)).toBe(true);
    expect(await ingestNode.blobs.has(ref.sha256)).toBe(true);
    // The bucket is where it is found: no location record.
    expect(await running.h.redis.exists(redisKey.blobLocation(ref.sha256))).toBe(0);

    const verifyDir = join(otherHost, 's3-verify');
    const path = await new BootImageFiles((await workerNode(verifyDir, s3.settings)).blobs).path(ref);
    expect(path.startsWith(verifyDir)).toBe(true);
    expect(readFileSync(path).equals(imageBytes)).toBe(true);

    const bucket = new S3Blobs(s3.settings);
    try {
      await bucket.put(ref.sha256, Buffer.alloc(imageBytes.length, 0x42));
    } finally {
      bucket.close();
    }
    const third = await workerNode(join(otherHost, 's3-third'), s3.settings);
    const err = await new BootImageFiles(third.blobs).path(ref).catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_BOOT_IMAGE_NOT_FOUND'), String(err)).toBe(true);
    expect(existsSync(third.blobs.disk.pathOf(ref.sha256))).toBe(false);
  });

  it('keepBootImage refuses a symbolic link the sandbox left (never reads the host file it names) and an image over the bound', async () => {
    const node = await workerNode(join(otherHost, 's3-refuse'), s3.settings);
    const link = jobDir(otherHost, (file) => symlinkSync('/etc/hostname', file));
    await expect(keepBootImage(link, { blobs: node.blobs, maxBytes: 1 << 20 })).rejects.toThrow(/symbolic link; refused/);
    const big = jobDir(otherHost, (file) => writeFileSync(file, Buffer.alloc(4096, 1)));
    const tooLarge = await keepBootImage(big, { blobs: node.blobs, maxBytes: 1024 }).catch((e: unknown) => e);
    expect(isLbcError(tooLarge, 'LBC_ERR_INGEST_TOO_LARGE'), String(tooLarge)).toBe(true);
    expect(existsSync(node.blobs.disk.pathOf(sha256Of(Buffer.alloc(4096, 1))))).toBe(false);
  });
});
