/**
 * Bootable kernel sets over the API: GET /v1/kernels says which kernels can boot (`bootable`, the
 * boot image's sha256 and size), `lbc kernels` shows it, and a worker on another host (its own
 * disk: it fetches the package from the API node) publishes the boot image by hash in the farm
 * blob store; the API node registering the kernel fetches its copy (verified) and keeps it beside
 * the BTF, and so does a second API node; the image's location record names them. Real ingest container, real Redis, a listening API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestStatus, KernelInfo } from '@lbc/contract';
import { BlobStore, KernelRegistry, openDatabase, redisKey, sha256Of, type Db } from '@lbc/core';
import { DEFAULT_INGEST_SETTINGS } from '../src/ingest/ingest-settings.ts';
import { IngestService } from '../src/ingest/ingest-service.ts';
import { startIngestWorker, type RunningIngestWorker } from '@lbc/worker';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';
import { runCli } from '@lbc/test-support/run-cli';
import { startIngestApp, type IngestApp } from '@lbc/test-support/ingest-app';

let running: IngestApp;
let server: string;
let fx: FixtureBuilder;
let remoteWorker: RunningIngestWorker;
/** A second API node on the same Redis, with its own data directory; it only listens for completions. */
let node2: { db: Db; registry: KernelRegistry; service: IngestService };
const node2Dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-boot-node2-'));
const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-boot-api-'));
/** The other host's data directory: the package is not there, so the worker fetches it. */
const workerDataDir = mkdtempSync(join(tmpdir(), 'lbc-ingest-boot-worker-'));

beforeAll(async () => {
  fx = new FixtureBuilder(dir);
  running = await startIngestApp({}, { ingestWorker: false });
  server = await running.app.listen({ host: '127.0.0.1', port: 0 });
  remoteWorker = await startIngestWorker({ redisUrl: running.h.privateRedis.url, dataDir: workerDataDir });
  const db = openDatabase(node2Dir);
  const registry = new KernelRegistry(db, new BlobStore(join(node2Dir, 'blobs')), running.h.privateRedis.connect());
  const service = new IngestService({ dataDir: node2Dir, db, registry, redis: running.h.redisOwner, settings: DEFAULT_INGEST_SETTINGS });
  await service.start();
  node2 = { db, registry, service };
});
afterAll(async () => {
  await node2?.service.close();
  node2?.db.close();
  rmSync(node2Dir, { recursive: true, force: true });
  await remoteWorker?.close();
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(workerDataDir, { recursive: true, force: true });
});

/** Uploaded over HTTP as lbc-admin does, so the job names this node as the package's origin. */
async function ingest(file: string, query: Record<string, string> = {}): Promise<IngestStatus> {
  const res = await fetch(`${server}/v1/kernels/ingest?${new URLSearchParams({ name: basename(file), waitMs: '90000', ...query })}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: new Uint8Array(readFileSync(file)),
  });
  const status = (await res.json()) as IngestStatus;
  expect(res.status, JSON.stringify(status)).toBe(201);
  return status;
}

describe('bootable kernels over the API', () => {
  let arm: IngestStatus;
  let image: string;

  it('a worker on another host publishes the boot image by hash, the API node fetches its copy: GET /v1/kernels says bootable', async () => {
    image = fx.arm64Image(fx.rawBtf('api_boot_arm64'));
    const deb = fx.deb({ name: 'linux-image-6.12.91+deb13-cloud-arm64', version: '6.12.91-1', arch: 'arm64', files: { '/boot/vmlinuz-6.12.91+deb13-cloud-arm64': image }, compression: 'xz' });
    arm = await ingest(deb);
    const bytes = readFileSync(image);
    const imageSha = sha256Of(bytes);
    expect(arm.kernel).toMatchObject({ release: '6.12.91+deb13-cloud-arm64', arch: 'aarch64', bootable: true, bootImage: { sha256: imageSha, size: bytes.length } });
    // On the API node's disk, beside the BTF, fetched by hash from the worker that published it (its own disk: another host).
    expect(readFileSync(running.h.registry.bootImagePath(arm.kernel!.btfSha256)!).equals(bytes)).toBe(true);
    expect(readFileSync(join(workerDataDir, 'blobs', imageSha.slice(0, 2), imageSha)).equals(bytes)).toBe(true);

    const raw = await ingest(fx.rawBtf('api_boot_raw'), { release: '6.6.0-lab', arch: 'x86_64' });
    const { kernels } = (await (await fetch(`${server}/v1/kernels`)).json()) as { kernels: KernelInfo[] };
    const byRelease = Object.fromEntries(kernels.map((k) => [k.release, k]));
    expect(byRelease['6.12.91+deb13-cloud-arm64']).toMatchObject({ bootable: true, bootImage: { sha256: imageSha, size: bytes.length } });
    expect(byRelease['6.6.0-lab']).toMatchObject({ btfSha256: raw.kernel!.btfSha256, bootable: false, source: 'package' });
    expect(byRelease['6.6.0-lab']!.bootImage).toBeUndefined();
  });

  it('another API node registering the kernel fetches the boot image from the node that holds it', async () => {
    let kernel: KernelInfo | null = null;
    for (let i = 0; i < 100 && !kernel?.bootable; i++) {
      kernel = node2.registry.get(arm.kernel!.btfSha256);
      if (!kernel?.bootable) await new Promise((r) => setTimeout(r, 100));
    }
    expect(kernel).toMatchObject({ release: '6.12.91+deb13-cloud-arm64', bootable: true, bootImage: arm.kernel!.bootImage });
    expect(readFileSync(node2.registry.bootImagePath(arm.kernel!.btfSha256)!).equals(readFileSync(image))).toBe(true);
  });

  it('no boot-image route between nodes any more: the image stays findable by hash, both holders on record with a bounded life', async () => {
    const sha = sha256Of(readFileSync(image));
    const url = `${server}/internal/ingest/boot-images/${sha}`;
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(readFileSync(image)) })).status).toBe(404);
    const key = redisKey.blobLocation(sha);
    const holders = await running.h.redis.smembers(key);
    expect(holders.length, holders.join(' ')).toBeGreaterThanOrEqual(2);
    expect(await running.h.redis.ttl(key)).toBeGreaterThan(0);
    // The record lapsed (the API node up for longer than its TTL, or Redis restarted empty): the
    // next start (republishAll) or verify job (shareBootImage) names the API node again.
    await running.h.redis.del(key);
    await running.h.registry.republishAll();
    expect(await running.h.redis.smembers(key)).toHaveLength(1);
    expect(await running.h.redis.ttl(key)).toBeGreaterThan(0);
  });

  it('lbc kernels shows which kernels boot', async () => {
    const r = await runCli(['kernels', '--server', server]);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rows] = r.stdout.trim().split('\n');
    expect(header).toMatch(/RELEASE\s+ARCH\s+DISTRO\s+SOURCE\s+BOOT\s+BTF\s+ADDED/);
    expect(rows.find((l) => l.startsWith('6.12.91+deb13-cloud-arm64'))).toMatch(/aarch64\s+debian\s+package\s+yes\s/);
    expect(rows.find((l) => l.startsWith('6.6.0-lab'))).toMatch(/x86_64\s+package\s+-\s/);
    const json = await runCli(['kernels', '--server', server, '--json', '--arch', 'aarch64']);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ release: '6.12.91+deb13-cloud-arm64', bootable: true })]);
  });
});
