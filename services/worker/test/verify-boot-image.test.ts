/**
 * The verify worker's boot images: on the API node's host they are read from the shared data
 * directory's blob store; a worker on another host (its own data directory) fetches the image once
 * from the API node the job names (farm credential over the image's sha256), checks it against
 * the sha256 and size, and keeps it in its own blob store. A listening API with a real ingest service.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLbcError, type BootImageRef } from '@lbc/contract';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { startIngestApp, type IngestApp } from '@lbc/test-support/ingest-app';
import { BootImageFiles } from '../src/verify/boot-image-file.ts';

let running: IngestApp;
let server: string;
let image: BootImageRef;
const bytes = Buffer.from('an arm64 Image, as far as this test is concerned '.repeat(1000));
const otherHost = mkdtempSync(join(tmpdir(), 'lbc-verify-worker-'));

beforeAll(async () => {
  running = await startIngestApp({}, { ingestWorker: false });
  server = await running.app.listen({ host: '127.0.0.1', port: 0 });
  const { kernel } = await running.h.registry.register({ btf: tinyBtf('verify_image'), release: '6.12.0-99-cloud-arm64', arch: 'aarch64', source: 'package' });
  image = running.h.registry.attachBootImage(kernel.btfSha256, running.h.registry.putBootImage(bytes)).bootImage!;
});
afterAll(async () => {
  await running?.close();
  rmSync(otherHost, { recursive: true, force: true });
});

describe('boot images for the verify worker', () => {
  it('on the API node\'s host: the shared blob store\'s file, nothing fetched', async () => {
    const files = new BootImageFiles(running.h.dataDir, running.h.redis);
    expect(await files.path(image, undefined)).toBe(running.h.registry.bootImagePath((running.h.registry.list()[0]!).btfSha256));
  });

  it('on another host: fetched once from the API node the job names, checked, kept in the worker\'s own blob store', async () => {
    const files = new BootImageFiles(otherHost, running.h.redis);
    const [a, b] = await Promise.all([files.path(image, server), files.path(image, server)]);
    expect(a).toBe(b);
    expect(a.startsWith(otherHost)).toBe(true);
    expect(readFileSync(a).equals(bytes)).toBe(true);
    // Kept: a later job needs no API node.
    expect(await new BootImageFiles(otherHost, running.h.redis).path(image, undefined)).toBe(a);
  });

  it('an image the API node does not hold, or another size than the job says, is refused; no origin is LBC_ERR_BOOT_IMAGE_NOT_FOUND', async () => {
    const files = new BootImageFiles(join(otherHost, 'another-worker'), running.h.redis);
    await expect(files.path({ sha256: 'ab'.repeat(32), size: 10 }, server)).rejects.toThrow(/answered 404/);
    await expect(files.path({ ...image, size: image.size + 1 }, server)).rejects.toThrow(/announced \d+ bytes, the job \d+/);
    const err = await files.path(image, undefined).catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_BOOT_IMAGE_NOT_FOUND')).toBe(true);
  });
});
