/**
 * A standalone worker process: `node --import tsx services/worker/src/main.ts`. Configured by env:
 * REDIS_URL, LBC_DATA_DIR, LBC_IMAGE, LBC_WORKER_CONCURRENCY, LBC_LOCK_DURATION_MS,
 * LBC_STALLED_INTERVAL_MS, LBC_WARM_CONTAINERS, LBC_COMPILE_TIMEOUT_MS, LBC_KERNEL_SET_TIMEOUT_MS,
 * LBC_KERNEL_SET_CPU_SECONDS, LBC_VERIFY_GUEST_TIMEOUT_MS; the blob store: LBC_BLOB_S3_* (an S3-compatible
 * store), else LBC_BLOB_ADVERTISE_URL / LBC_BLOB_PORT (where other nodes fetch this host's blobs).
 */
import { resolve } from 'node:path';
import { BLOB_LOCATION_TTL_SECONDS, blobS3FromEnv, RedisOwner } from '@lbc/core';
import { startWorker } from './worker.ts';
import { startIngestWorker } from './ingest/ingest-worker.ts';
import { startVerifyWorker } from './verify/verify-worker.ts';
import { LAB_VERSION, verifyInGuest } from './verify/index.ts';

function intEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
// The process's one Redis owner: one report per outage for the three workers (pino on stderr, level LBC_LOG_LEVEL, default warn).
const redis = new RedisOwner({ url: redisUrl, timeoutMs: 5000, name: 'lbc-worker' });
const worker = await startWorker({
  redisUrl,
  dataDir: resolve(process.env.LBC_DATA_DIR || './.data'),
  image: process.env.LBC_IMAGE || undefined,
  concurrency: intEnv('LBC_WORKER_CONCURRENCY'),
  lockDurationMs: intEnv('LBC_LOCK_DURATION_MS'),
  stalledIntervalMs: intEnv('LBC_STALLED_INTERVAL_MS'),
  warmContainers: intEnv('LBC_WARM_CONTAINERS'),
  compileTimeoutMs: intEnv('LBC_COMPILE_TIMEOUT_MS'),
  kernelSetTimeoutMs: intEnv('LBC_KERNEL_SET_TIMEOUT_MS'),
  kernelSetCpuSeconds: intEnv('LBC_KERNEL_SET_CPU_SECONDS'),
  redis,
  labVersion: LAB_VERSION,
  blobS3: blobS3FromEnv(process.env),
  blobAdvertiseUrl: process.env.LBC_BLOB_ADVERTISE_URL || undefined,
  blobPort: intEnv('LBC_BLOB_PORT'),
  // Its blobs' location records live as long as the API's compile records that lead to them.
  blobLocationTtlSeconds: Math.max(BLOB_LOCATION_TTL_SECONDS, intEnv('LBC_SHARED_ARTIFACT_TTL_SECONDS') ?? 0),
});
// Kernel package ingestion, one at a time; packages come by hash from this LBC_DATA_DIR's blob store, the API node that received them, or the S3 store.
const ingestWorker = await startIngestWorker({ redisUrl, dataDir: resolve(process.env.LBC_DATA_DIR || './.data'), image: process.env.LBC_IMAGE || undefined, redis, blobs: worker.blobs });
// lbc verify: kernels booted in the lab (QEMU in the sandbox), as many at once as compiles run.
const verifyWorker = await startVerifyWorker({
  redisUrl,
  dataDir: resolve(process.env.LBC_DATA_DIR || './.data'),
  lab: { run: verifyInGuest, version: LAB_VERSION },
  concurrency: intEnv('LBC_WORKER_CONCURRENCY') ?? 2,
  guestTimeoutMs: intEnv('LBC_VERIFY_GUEST_TIMEOUT_MS'),
  redis,
  blobs: worker.blobs,
});
process.stdout.write(`lbc worker ${process.pid} ready (${worker.toolchain})\n`);

let closing = false;
const shutdown = (signal: string) => {
  if (closing) return;
  closing = true;
  process.stdout.write(`lbc worker ${process.pid}: ${signal}, finishing current jobs\n`);
  redis.closing();
  Promise.all([worker.close(), ingestWorker.close(), verifyWorker.close()]).then(
    () => {
      redis.close();
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`lbc worker close failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
