/**
 * The package of an ingest job, for a worker on any host, by its hash through the farm blob store
 * (core/store/farm-blobs.ts): the file in this worker's own store when it is there (one host, or a
 * shared data directory), else streamed from the node that holds it (the API node that received
 * it, with the farm credential for that hash) or from the S3 store, into <dataDir>/ingest/fetched —
 * bounded by the size the API measured, checked against the sha256, never held in memory. The
 * copy is a working copy: it is not kept in the store, and release() removes it.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { LbcError } from '@lbc/contract';
import { BlobTransferError, fetchedPackagesDir, ownerTag, ownerTagGone, type FarmBlobs, type IngestJobData } from '@lbc/core';

export interface ObtainedPackage {
  path: string;
  /** True when it was fetched from elsewhere (release() removes the copy). */
  fetched: boolean;
  release(): Promise<void>;
}

export interface PackageFetchOptions {
  dataDir: string;
  /** The farm blob store as this worker sees it. */
  blobs: FarmBlobs;
  /** Receives the fraction fetched so far (0..1). */
  onProgress?: (fraction: number) => void;
  /** A transfer that brings no byte for this long is given up (the job is tried again). */
  stallMs?: number;
}

/** The package could not be had; `retryable`: another attempt (maybe on another worker) may succeed. */
export class PackageFetchError extends LbcError {
  constructor(
    detail: string,
    readonly retryable: boolean,
  ) {
    super('LBC_ERR_INGEST_PACKAGE_UNAVAILABLE', detail);
  }
}

export async function obtainPackage(data: IngestJobData, opts: PackageFetchOptions): Promise<ObtainedPackage> {
  const dir = fetchedPackagesDir(opts.dataDir);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // The owner in the name lets a later start of this worker remove what a killed one left.
  const dest = join(dir, `${data.packageSha256}-${ownerTag()}-${randomBytes(4).toString('hex')}`);
  let got: { path: string; fetched: boolean };
  try {
    got = await opts.blobs.fetchFile(data.packageSha256, { size: data.size, ...(opts.stallMs ? { stallMs: opts.stallMs } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) }, dest);
  } catch (err) {
    await fs.rm(dest, { force: true });
    if (err instanceof BlobTransferError) throw new PackageFetchError(`package ${data.packageSha256}: ${err.message}`, err.retryable);
    throw err;
  }
  if (!got.fetched) return { path: got.path, fetched: false, release: async () => {} };
  return { path: got.path, fetched: true, release: () => fs.rm(got.path, { force: true }) };
}

/** Copies a killed worker of this host left behind (their owner is gone), and names not ours. */
export async function removeStaleFetches(dataDir: string): Promise<number> {
  const dir = fetchedPackagesDir(dataDir);
  let removed = 0;
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const owner = /^[0-9a-f]{64}-(\d+(?:-\d+)?)-[0-9a-f]{8}$/.exec(name)?.[1];
    if (owner !== undefined && !ownerTagGone(owner)) continue;
    await fs.rm(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}
