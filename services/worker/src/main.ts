/**
 * A standalone worker process: `node --import tsx services/worker/src/main.ts`. Configured by env:
 * REDIS_URL, LBC_DATA_DIR, LBC_IMAGE, LBC_WORKER_CONCURRENCY, LBC_LOCK_DURATION_MS,
 * LBC_STALLED_INTERVAL_MS, LBC_WARM_CONTAINERS, LBC_COMPILE_TIMEOUT_MS, LBC_KERNEL_SET_TIMEOUT_MS,
 * LBC_KERNEL_SET_CPU_SECONDS, LBC_VERIFY_GUEST_TIMEOUT_MS.
 */
import { resolve } from 'node:path';
import { fallbackLogger, RedisConnectionLog } from '@lbc/core';
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
// One report per Redis outage for both workers (pino on stderr, level LBC_LOG_LEVEL, default warn).
const redisLog = new RedisConnectionLog(fallbackLogger('lbc-worker'), redisUrl);
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
  redisLog,
  labVersion: LAB_VERSION,
});
// Kernel package ingestion, one at a time; packages come from this LBC_DATA_DIR or, on another host, from the API node that received them.
const ingestWorker = await startIngestWorker({ redisUrl, dataDir: resolve(process.env.LBC_DATA_DIR || './.data'), image: process.env.LBC_IMAGE || undefined, redisLog });
// lbc verify: kernels booted in the lab (QEMU in the sandbox), as many at once as compiles run.
const verifyWorker = await startVerifyWorker({
  redisUrl,
  dataDir: resolve(process.env.LBC_DATA_DIR || './.data'),
  lab: { run: verifyInGuest, version: LAB_VERSION },
  concurrency: intEnv('LBC_WORKER_CONCURRENCY') ?? 2,
  guestTimeoutMs: intEnv('LBC_VERIFY_GUEST_TIMEOUT_MS'),
  redisLog,
});
process.stdout.write(`lbc worker ${process.pid} ready (${worker.toolchain})\n`);

let closing = false;
const shutdown = (signal: string) => {
  if (closing) return;
  closing = true;
  process.stdout.write(`lbc worker ${process.pid}: ${signal}, finishing current jobs\n`);
  redisLog.close();
  Promise.all([worker.close(), ingestWorker.close(), verifyWorker.close()]).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`lbc worker close failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
