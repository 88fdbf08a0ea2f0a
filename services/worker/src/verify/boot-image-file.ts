/**
 * A kernel's boot image as a file on this host, by its sha256: the data directory's blob store
 * holds it when this worker shares the API node's directory (one host); a worker on another host
 * fetches it once from the API node that named itself in the job (GET /internal/ingest/boot-images,
 * the farm credential over the image's sha256) and keeps it in its own blob store.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { LbcError, type BootImageRef } from '@lbc/contract';
import { BlobStore, fetchBootImage, readFarmSecret } from '@lbc/core';

export class BootImageFiles {
  private readonly blobs: BlobStore;
  private readonly fetching = new Map<string, Promise<string>>();

  constructor(dataDir: string, private readonly redis: Redis) {
    this.blobs = new BlobStore(join(dataDir, 'blobs'));
  }

  async path(image: BootImageRef, origin: string | undefined): Promise<string> {
    if (this.blobs.has(image.sha256)) return this.blobs.pathOf(image.sha256);
    const running = this.fetching.get(image.sha256);
    if (running) return running;
    const work = this.fetch(image, origin).finally(() => this.fetching.delete(image.sha256));
    this.fetching.set(image.sha256, work);
    return work;
  }

  private async fetch(image: BootImageRef, origin: string | undefined): Promise<string> {
    if (!origin) throw new LbcError('LBC_ERR_BOOT_IMAGE_NOT_FOUND', `boot image ${image.sha256} is not on this worker's host and the job names no API node to fetch it from`);
    const secret = await readFarmSecret(this.redis);
    if (!secret) throw new Error(`no farm secret in Redis to fetch boot image ${image.sha256} with`);
    this.blobs.put(await fetchBootImage(origin, image, secret));
    return this.blobs.pathOf(image.sha256);
  }
}
