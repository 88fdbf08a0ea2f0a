/**
 * A kernel package travels by hash, like every blob: the API node that received it keeps it on
 * its own disk under its sha256 (named in Redis as its holder, with a bounded life) or uploads it
 * to the S3 store, the ingest job carries the hash, name and size only, and a worker with a disk
 * of its own gets the bytes by hash — streamed and verified. A corrupt copy is refused, never
 * ingested; once the kernel is registered the package is removed everywhere.
 */
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestStatus } from '@lbc/contract';
import type { LbcConfig } from '@lbc/core';
import { BLOB_LOCATION_TTL_SECONDS, S3Blobs, fetchedPackagesDir, ingestPackagesDir, openDatabase, redisKey, sha256Of, type Db } from '@lbc/core';
import { DEFAULT_INGEST_SETTINGS, IngestService } from '../src/index.ts';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { startS3Server, type S3Server } from '@lbc/test-support/s3-server';
import { startIngestWorker, type RunningIngestWorker } from '@lbc/worker';

const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-farm-'));
const fx = new FixtureBuilder(dir);

/** A Debian arm64 kernel image package (its vmlinuz an arm64 Image carrying BTF): quick to ingest. */
const kernelPackage = (n: number) =>
  fx.deb({
    name: `linux-image-6.1.0-${n}-cloud-arm64`,
    version: `6.1.${n}-1`,
    arch: 'arm64',
    files: { [`/boot/vmlinuz-6.1.0-${n}-cloud-arm64`]: fx.arm64Image(fx.rawBtf(`farm_pkg_${n}`)) },
    compression: 'xz',
  });

/** An API node (listening: it serves its blobs by hash) with ingestion, and workers each with a data directory of their own. */
async function apiNode(redis: PrivateRedis, config: Partial<LbcConfig> = {}) {
  const node = await startHarness({ redis, listen: true, config });
  const db: Db = openDatabase(node.config.dataDir);
  const service = new IngestService({ dataDir: node.config.dataDir, db, registry: node.registry, redis: node.redisOwner, settings: DEFAULT_INGEST_SETTINGS });
  await service.start();
  return {
    node,
    service,
    submit: (file: string) => service.submit({ kind: 'upload', body: createReadStream(file), fileName: basename(file) }, {}, 0),
    async close() {
      await service.close();
      db.close();
      await node.close();
    },
  };
}

async function settled(service: IngestService, id: string): Promise<IngestStatus> {
  let status = await service.status(id);
  for (let i = 0; i < 900 && status.state !== 'completed' && status.state !== 'failed'; i++) {
    await sleep(100);
    status = await service.status(id);
  }
  return status;
}

const workerDirs: string[] = [];
function worker(redis: PrivateRedis, extra: Partial<Parameters<typeof startIngestWorker>[0]> = {}): Promise<RunningIngestWorker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lbc-ingest-farm-worker-'));
  workerDirs.push(dataDir);
  return startIngestWorker({ redisUrl: redis.url, dataDir, ...extra });
}

afterAll(() => {
  for (const d of [dir, ...workerDirs]) rmSync(d, { recursive: true, force: true });
});

describe('a package between an API node and a worker that share no disk', () => {
  let redis: PrivateRedis;
  let api: Awaited<ReturnType<typeof apiNode>>;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    api = await apiNode(redis);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await redis?.stop();
  });

  it('is fetched by hash from the API node, verified, ingested; then removed from the node, the record and the worker', async () => {
    const deb = kernelPackage(71);
    const bytes = readFileSync(deb);
    const sha256 = sha256Of(bytes);
    const queued = await api.submit(deb);
    expect(queued.packageSha256).toBe(sha256);
    // On the API node's disk under its hash; Redis names the node, for a bounded time; the job carries references only.
    expect(api.node.blobs.read(sha256).status).toBe('ok');
    const command = api.node.redisOwner.command;
    expect(await command.smembers(redisKey.blobLocation(sha256))).toHaveLength(1);
    const ttl = await command.ttl(redisKey.blobLocation(sha256));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(BLOB_LOCATION_TTL_SECONDS);
    const job = await api.service.queue.getJob(queued.id);
    expect(job!.data).toMatchObject({ packageSha256: sha256, fileName: basename(deb), size: bytes.length });
    expect(JSON.stringify(job!.data).length).toBeLessThan(1024);

    const w = await worker(redis);
    try {
      const status = await settled(api.service, queued.id);
      expect(status.error).toBeUndefined();
      expect(status).toMatchObject({ state: 'completed', kernel: { release: '6.1.0-71-cloud-arm64', arch: 'aarch64', source: 'package' } });
      // Not kept: not on the API node, not on record, not in the worker's store or working copies.
      expect(api.node.blobs.has(sha256)).toBe(false);
      expect(await command.exists(redisKey.blobLocation(sha256))).toBe(0);
      expect(readdirSync(ingestPackagesDir(api.node.config.dataDir))).toEqual([]);
      const workerDir = workerDirs.at(-1)!;
      expect(existsSync(join(workerDir, 'blobs', sha256.slice(0, 2), sha256))).toBe(false);
      expect(readdirSync(fetchedPackagesDir(workerDir))).toEqual([]);
      // The kernel's BTF the worker published was fetched by the API node, which registered it.
      expect(api.node.registry.readBtf(status.kernel!.btfSha256)).not.toBeNull();
    } finally {
      await w.close();
    }
  }, 120_000);

  it('an API node that restarts names itself again as the holder of the packages still waiting (their record may have lapsed)', async () => {
    const deb = kernelPackage(74);
    const queued = await api.submit(deb);
    const record = redisKey.blobLocation(queued.packageSha256);
    const command = api.node.redisOwner.command;
    const holders = await command.smembers(record);
    expect(holders).toHaveLength(1);
    // Lapsed while the node was down: nobody could find the package.
    await command.del(record);
    const db = openDatabase(api.node.config.dataDir);
    const restarted = new IngestService({ dataDir: api.node.config.dataDir, db, registry: api.node.registry, redis: api.node.redisOwner, settings: DEFAULT_INGEST_SETTINGS });
    try {
      await restarted.start();
    } finally {
      await restarted.close();
      db.close();
    }
    expect(await command.smembers(record)).toEqual(holders);
    expect(await command.ttl(record)).toBeGreaterThan(0);
    const w = await worker(redis);
    try {
      expect(await settled(api.service, queued.id)).toMatchObject({ state: 'completed', kernel: { release: '6.1.0-74-cloud-arm64' } });
    } finally {
      await w.close();
    }
  }, 120_000);

  it('a corrupt copy on the API node is refused: the ingestion fails with LBC_ERR_INGEST_PACKAGE_UNAVAILABLE, nothing is registered', async () => {
    const deb = kernelPackage(72);
    const queued = await api.submit(deb);
    const onNode = api.node.blobs.pathOf(queued.packageSha256);
    const size = readFileSync(onNode).length;
    writeFileSync(onNode, Buffer.alloc(size, 0x5a));
    const w = await worker(redis);
    try {
      const status = await settled(api.service, queued.id);
      expect(status.state).toBe('failed');
      expect(status.error).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE' });
      expect(status.error!.message).toMatch(/answered 404: corrupt here \(dropped\)/);
      expect(api.node.registry.list().map((k) => k.release)).not.toContain('6.1.0-72-cloud-arm64');
      expect(readdirSync(fetchedPackagesDir(workerDirs.at(-1)!))).toEqual([]);
    } finally {
      await w.close();
    }
  }, 120_000);
});

describe('a package through an S3-compatible store', () => {
  let redis: PrivateRedis;
  let s3: S3Server;
  let api: Awaited<ReturnType<typeof apiNode>>;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    s3 = await startS3Server();
    api = await apiNode(redis, { blobS3: s3.settings });
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await s3?.stop();
    await redis?.stop();
  });

  const inBucket = async (sha256: string) => {
    const bucket = new S3Blobs(s3.settings);
    try {
      return await bucket.has(sha256);
    } finally {
      bucket.close();
    }
  };

  it('is uploaded as a stream, fetched by a worker with its own disk from the bucket, ingested, then removed from the bucket', async () => {
    const deb = kernelPackage(73);
    const sha256 = sha256Of(readFileSync(deb));
    const queued = await api.submit(deb);
    expect(await inBucket(sha256)).toBe(true);
    expect(await api.node.redisOwner.command.exists(redisKey.blobLocation(sha256))).toBe(0);
    const w = await worker(redis, { blobS3: s3.settings });
    try {
      const status = await settled(api.service, queued.id);
      expect(status.error).toBeUndefined();
      expect(status).toMatchObject({ state: 'completed', kernel: { release: '6.1.0-73-cloud-arm64', source: 'package' } });
      expect(await inBucket(sha256)).toBe(false);
      expect(api.node.blobs.has(sha256)).toBe(false);
    } finally {
      await w.close();
    }
  }, 120_000);
});
