/**
 * Receives a kernel package onto disk without holding it in memory: the bytes stream into a spool
 * file while being hashed and counted, then the file is renamed to packages/<sha256>. A package
 * over the size bound is cut off and removed.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LbcError } from '@lbc/contract';
import { ingestPackagesDir, ingestSpoolDir, packagePath } from '@lbc/core';

export interface SpooledPackage {
  sha256: string;
  size: number;
  path: string;
}

export async function spoolPackage(dataDir: string, body: Readable, maxBytes: number): Promise<SpooledPackage> {
  await fs.mkdir(ingestSpoolDir(dataDir), { recursive: true, mode: 0o700 });
  await fs.mkdir(ingestPackagesDir(dataDir), { recursive: true, mode: 0o755 });
  const tmp = join(ingestSpoolDir(dataDir), `upload-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) {
        done(new LbcError('LBC_ERR_INGEST_TOO_LARGE', `the package is over the ${maxBytes}-byte limit (LBC_INGEST_MAX_BYTES)`, { limit: maxBytes }));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
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
  if (size === 0) {
    await fs.rm(tmp, { force: true });
    throw new LbcError('LBC_ERR_INGEST_FORMAT', 'the package is empty');
  }
  const sha256 = hash.digest('hex');
  const path = packagePath(dataDir, sha256);
  // Same bytes, same name: a package already spooled is simply replaced by its twin.
  await fs.rename(tmp, path);
  return { sha256, size, path };
}

export async function removePackage(dataDir: string, sha256: string): Promise<void> {
  await fs.rm(packagePath(dataDir, sha256), { force: true });
}

/**
 * Leftovers of API processes that died: half-received uploads in the spool, and packages that
 * never got (or outlived) their job. Only files untouched for `minAgeMs` are removed, so another
 * API process's upload in progress is left alone.
 */
export async function sweepSpool(dataDir: string, hasJob: (sha256: string) => Promise<boolean>, minAgeMs = 3600_000): Promise<number> {
  const old = async (path: string) => Date.now() - (await fs.stat(path)).mtimeMs > minAgeMs;
  let removed = 0;
  for (const [dir, isPackage] of [[ingestSpoolDir(dataDir), false], [ingestPackagesDir(dataDir), true]] as const) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(dir, name);
      try {
        if (!(await old(path))) continue;
        if (isPackage && /^[0-9a-f]{64}$/.test(name) && (await hasJob(name))) continue;
        await fs.rm(path, { force: true });
        removed++;
      } catch {
        // gone meanwhile
      }
    }
  }
  return removed;
}
