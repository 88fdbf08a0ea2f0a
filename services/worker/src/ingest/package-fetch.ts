/**
 * The package of an ingest job, for a worker on any host: the file on this worker's own disk when
 * it is there (one host, or a shared data directory), else streamed from the API node that received
 * it (job.data.origin) into <dataDir>/ingest/fetched — bounded by the size the API measured, checked
 * against the sha256, never held in memory. The worker proves itself with an HMAC of the farm
 * secret it reads from Redis (package-access.ts); the credential opens this one package only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import type { Redis } from 'ioredis';
import { LbcError } from '@lbc/contract';
import { PACKAGE_TOKEN_HEADER, fetchedPackagesDir, ownerTag, ownerTagGone, packageFetchPath, packagePath, packageToken, readFarmSecret, type IngestJobData } from '@lbc/core';

export interface ObtainedPackage {
  path: string;
  /** True when it was fetched from the API node (release() removes the copy). */
  fetched: boolean;
  release(): Promise<void>;
}

export interface PackageFetchOptions {
  dataDir: string;
  redis: Redis;
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
  const local = packagePath(opts.dataDir, data.packageSha256);
  const stat = await fs.stat(local).catch(() => null);
  // The API renames a package into place only once it is complete and hashed.
  if (stat?.isFile() && stat.size === data.size) return { path: local, fetched: false, release: async () => {} };
  if (!data.origin) {
    throw new PackageFetchError(`${data.packageSha256} is not in this worker's ${local} and the job names no API node to fetch it from`, true);
  }
  const secret = await readFarmSecret(opts.redis);
  if (!secret) throw new PackageFetchError('no farm secret in Redis yet (an API node makes it when it starts)', true);

  const dir = fetchedPackagesDir(opts.dataDir);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // The pid in the name lets a later start of this worker remove what a killed one left.
  const dest = join(dir, `${data.packageSha256}-${ownerTag()}-${randomBytes(4).toString('hex')}`);
  try {
    await download(data, secret, dest, opts);
  } catch (err) {
    await fs.rm(dest, { force: true });
    throw err;
  }
  return { path: dest, fetched: true, release: () => fs.rm(dest, { force: true }) };
}

async function download(data: IngestJobData, secret: string, dest: string, opts: PackageFetchOptions): Promise<void> {
  const url = `${data.origin}${packageFetchPath(data.packageSha256)}`;
  const stallMs = opts.stallMs ?? 60_000;
  const abort = new AbortController();
  let stall = setTimeout(() => abort.abort(), stallMs);
  const alive = () => {
    clearTimeout(stall);
    stall = setTimeout(() => abort.abort(), stallMs);
  };
  const why = (err: unknown) => (abort.signal.aborted ? `no data for ${stallMs / 1000} s` : ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message);
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers: { [PACKAGE_TOKEN_HEADER]: packageToken(secret, data.packageSha256) }, signal: abort.signal });
    } catch (err) {
      throw new PackageFetchError(`the API node holding it (${url}) did not answer: ${why(err)}`, true);
    }
    if (res.status !== 200 || !res.body) {
      const body = await res.text().catch(() => '');
      // Gone or refused will not change on a second try; a busy or failing node may.
      const retryable = res.status !== 404 && res.status !== 401 && res.status !== 403;
      throw new PackageFetchError(`${url} answered ${res.status}: ${body.slice(0, 300)}`, retryable);
    }
    const announced = Number(res.headers.get('content-length') ?? data.size);
    if (announced !== data.size) throw new PackageFetchError(`${url} announced ${announced} bytes, the job ${data.size}`, false);

    const hash = createHash('sha256');
    let received = 0;
    let reported = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        alive();
        received += chunk.length;
        if (received > data.size) return done(new PackageFetchError(`${url} sent more than the ${data.size} bytes of the package`, false));
        hash.update(chunk);
        if (received - reported >= data.size / 100) {
          reported = received;
          opts.onProgress?.(received / data.size);
        }
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), meter, createWriteStream(dest, { flags: 'wx', mode: 0o644 }));
    } catch (err) {
      if (err instanceof PackageFetchError) throw err;
      throw new PackageFetchError(`fetching ${url} broke off after ${received} of ${data.size} bytes: ${why(err)}`, true);
    }
    if (received !== data.size) throw new PackageFetchError(`${url} sent ${received} of ${data.size} bytes`, true);
    const sha256 = hash.digest('hex');
    if (sha256 !== data.packageSha256) throw new PackageFetchError(`${url} sent bytes with sha256 ${sha256}, not the package's`, false);
  } finally {
    clearTimeout(stall);
  }
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
