/**
 * The image a VM boots (vmlinuz, arm64 Image), kept from a kernel image package beside its BTF:
 * content-addressed in the blob store of the API node that received the package, never in Redis.
 * A worker that read the package from its own data directory shares that directory with the node,
 * so it writes the blob there; a worker on another host (it fetched the package) sends the image to
 * the node, proving itself as for the package fetch: an HMAC of the farm secret, here over the
 * image's sha256, so the credential opens that one upload only.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { LbcError, type BootImageRef } from '@lbc/contract';
import { BlobStore, PACKAGE_TOKEN_HEADER, bootImageToken, bootImageTransferPath, readFarmSecret, sha256Of } from '@lbc/core';
import { readObject, type JobDir } from '../sandbox/job-dir.ts';

export interface KeepBootImageOptions {
  /** The worker's data directory: the API node's too when the package was read from it. */
  dataDir: string;
  maxBytes: number;
  /** Set when the package came from another host: the API node to send the image to. */
  sendTo?: { origin: string; redis: Redis };
}

export async function keepBootImage(job: JobDir, opts: KeepBootImageOptions): Promise<BootImageRef> {
  const read = await readObject(job, 'boot-image', opts.maxBytes);
  if (!read.ok) {
    if (read.reason === 'too-large') throw new LbcError('LBC_ERR_INGEST_TOO_LARGE', `the package's boot image is over the ${opts.maxBytes}-byte limit`);
    throw new LbcError('LBC_ERR_INGEST_CORRUPT', `the boot image could not be kept: ${read.detail}`);
  }
  const image = { sha256: sha256Of(read.bytes), size: read.bytes.length };
  if (!opts.sendTo) {
    new BlobStore(join(opts.dataDir, 'blobs')).put(read.bytes);
    return image;
  }
  const secret = await readFarmSecret(opts.sendTo.redis);
  if (!secret) throw new Error('LBC_ERR_INGEST_PACKAGE_UNAVAILABLE: no farm secret in Redis to send the boot image with');
  const url = `${opts.sendTo.origin}${bootImageTransferPath(image.sha256)}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', [PACKAGE_TOKEN_HEADER]: bootImageToken(secret, image.sha256) },
      body: new Uint8Array(read.bytes),
    });
  } catch (err) {
    // Not a package fault: the job is tried again (maybe on another worker).
    throw new Error(`sending the boot image to ${url}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`);
  }
  if (res.status !== 200 && res.status !== 201) throw new Error(`sending the boot image to ${url}: ${res.status} ${(await res.text().catch(() => '')).slice(0, 300)}`);
  return image;
}
