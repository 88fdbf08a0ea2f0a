/**
 * The image a VM boots (vmlinuz, arm64 Image), kept from a kernel image package beside its BTF:
 * content-addressed in the farm blob store (store/farm-blobs.ts), never in Redis, never whole in
 * memory. The file the ingest container wrote is streamed (symlinks and non-regular files refused,
 * size bounded, hashed on the way) into this worker's disk store, adopted under its sha256 and
 * published there: this node is named as its holder, or the file goes to the S3 store. The job
 * result carries only the reference; whoever needs the image (the API registering the kernel, a
 * verify worker on any host) fetches it by hash, verified.
 */
import { constants, createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LbcError, type BootImageRef } from '@lbc/contract';
import { HashingMeter, type FarmBlobs } from '@lbc/core';
import type { JobDir } from '../sandbox/job-dir.ts';

export interface KeepBootImageOptions {
  blobs: FarmBlobs;
  maxBytes: number;
}

export async function keepBootImage(job: JobDir, opts: KeepBootImageOptions): Promise<BootImageRef> {
  const tooLarge = (size: number) => new LbcError('LBC_ERR_INGEST_TOO_LARGE', `the package's boot image is over the ${opts.maxBytes}-byte limit (${size} bytes or more)`);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(join(job.out, 'boot-image'), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') throw new LbcError('LBC_ERR_INGEST_CORRUPT', `the boot image could not be kept: ${code === 'ELOOP' ? 'it is a symbolic link; refused' : 'the ingest tool wrote none'}`);
    throw err;
  }
  const temp = join(job.root, `boot-image.${process.pid}.incoming`);
  const meter = new HashingMeter(opts.maxBytes, tooLarge);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new LbcError('LBC_ERR_INGEST_CORRUPT', 'the boot image could not be kept: it is not a regular file; refused');
    if (stat.size > opts.maxBytes) throw tooLarge(stat.size);
    // Counted as it streams too (meter): the sandbox's file may not be the size it said a moment ago.
    await pipeline(handle.createReadStream({ autoClose: false }), meter, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  } finally {
    await handle.close();
  }
  const sha256 = meter.digest();
  try {
    await opts.blobs.disk.adopt(temp, sha256);
  } finally {
    await fs.rm(temp, { force: true });
  }
  // Not a package fault when this fails (Redis, the S3 store): the job is tried again.
  await opts.blobs.publishFile(sha256);
  return { sha256, size: meter.size };
}
