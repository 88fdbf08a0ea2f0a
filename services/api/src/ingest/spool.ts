/**
 * Receives a kernel package onto disk without holding it in memory: the bytes stream into a spool
 * file while being hashed and counted, then the file joins this node's blob store under its sha256
 * (the farm finds it there by hash, store/farm-blobs.ts). A package over the size bound is cut off
 * and removed. packages/<sha256> is this node's ledger of the packages it received and has not
 * ingested yet (an empty file each): blobs are otherwise alike, and a package, unlike an object or
 * a kernel's BTF, is not kept once its ingestion ends.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LbcError } from '@lbc/contract';
import { HashingMeter, ingestPackagesDir, ingestSpoolDir, packagePath, type BlobStore } from '@lbc/core';

export interface SpooledPackage {
  sha256: string;
  size: number;
  /** In the blob store. */
  path: string;
}

export async function spoolPackage(dataDir: string, disk: BlobStore, body: Readable, maxBytes: number): Promise<SpooledPackage> {
  await fs.mkdir(ingestSpoolDir(dataDir), { recursive: true, mode: 0o700 });
  await fs.mkdir(ingestPackagesDir(dataDir), { recursive: true, mode: 0o755 });
  const tmp = join(ingestSpoolDir(dataDir), `upload-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const meter = new HashingMeter(maxBytes, () => new LbcError('LBC_ERR_INGEST_TOO_LARGE', `the package is over the ${maxBytes}-byte limit (LBC_INGEST_MAX_BYTES)`, { limit: maxBytes }));
  // The body is piped, not part of the pipeline: on the size limit it must stay intact (drained,
  // not destroyed) so the API can still answer 413 on the same connection.
  body.on('error', (err) => meter.destroy(err));
  body.pipe(meter);
  try {
    await pipeline(meter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
  } catch (err) {
    body.unpipe(meter);
    body.resume();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  if (meter.size === 0) {
    await fs.rm(tmp, { force: true });
    throw new LbcError('LBC_ERR_INGEST_FORMAT', 'the package is empty');
  }
  const sha256 = meter.digest();
  // The ledger entry first: a package in the store is never without one the sweep would find.
  await fs.writeFile(packagePath(dataDir, sha256), '', { mode: 0o644 });
  // Same bytes, same name: a package already in the store is simply replaced by its twin.
  const path = await disk.adopt(tmp, sha256);
  return { sha256, size: meter.size, path };
}

/** The ledger's packages (sha256s), and since when each has been waiting (ms since the epoch). */
export async function ledgerPackages(dataDir: string): Promise<{ sha256: string; since: number }[]> {
  const names = await fs.readdir(ingestPackagesDir(dataDir)).catch(() => [] as string[]);
  const found: { sha256: string; since: number }[] = [];
  for (const name of names) {
    const stat = await fs.stat(join(ingestPackagesDir(dataDir), name)).catch(() => null);
    if (stat) found.push({ sha256: name, since: stat.mtimeMs });
  }
  return found;
}

export async function forgetPackage(dataDir: string, sha256: string): Promise<void> {
  await fs.rm(packagePath(dataDir, sha256), { force: true });
}

/**
 * Half-received uploads of API processes that died: only files untouched for `minAgeMs` are removed,
 * so another API process's upload in progress is left alone. (Packages without a job: IngestService.start.)
 */
export async function sweepSpool(dataDir: string, minAgeMs = 3600_000): Promise<number> {
  let removed = 0;
  for (const name of await fs.readdir(ingestSpoolDir(dataDir)).catch(() => [] as string[])) {
    const path = join(ingestSpoolDir(dataDir), name);
    try {
      if (Date.now() - (await fs.stat(path)).mtimeMs <= minAgeMs) continue;
      await fs.rm(path, { force: true });
      removed++;
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}
