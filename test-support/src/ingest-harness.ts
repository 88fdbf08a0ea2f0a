/** A real ingestion pipeline for tests: private Redis, SQLite + blobs, the API-side service and an ingest worker. */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Redis } from 'ioredis';
import type { IngestStatus } from '@lbc/contract';
import { BlobStore, KernelRegistry, RedisOwner, openDatabase, type Db, type IngestHints } from '@lbc/core';
import { DEFAULT_INGEST_SETTINGS, IngestService, type IngestSettings } from '@lbc/api';
import { startPrivateRedis, type PrivateRedis } from './redis.ts';
import { startIngestWorker, type IngestWorkerOptions, type RunningIngestWorker } from '@lbc/worker';

export interface IngestHarness {
  dataDir: string;
  db: Db;
  redis: Redis;
  privateRedis: PrivateRedis;
  /** The ingest service's Redis owner (what the server process makes once). */
  redisOwner: RedisOwner;
  registry: KernelRegistry;
  service: IngestService;
  /** Absent with `worker: false`. */
  worker?: RunningIngestWorker;
  /** Uploads `file` (named `fileName`) and waits up to 60 s for its outcome. */
  ingest(file: string, hints?: IngestHints, fileName?: string): Promise<IngestStatus>;
  close(): Promise<void>;
}

/** `worker: false`: no ingest worker (a test runs its own); BullMQ's stalled-job check of one would otherwise set the pace for all. */
export async function startIngestHarness(opts: { settings?: Partial<IngestSettings>; worker?: boolean; workerLimits?: IngestWorkerOptions['limits'] } = {}): Promise<IngestHarness> {
  const privateRedis = await startPrivateRedis();
  const dataDir = mkdtempSync(join(tmpdir(), 'lbc-ingest-test-'));
  const redis = privateRedis.connect();
  const db = openDatabase(dataDir);
  const registry = new KernelRegistry(db, new BlobStore(join(dataDir, 'blobs')), redis);
  const redisOwner = new RedisOwner({ url: privateRedis.url, timeoutMs: 5000, name: 'lbc-api' });
  const service = new IngestService({ dataDir, db, registry, redis: redisOwner, settings: { ...DEFAULT_INGEST_SETTINGS, ...opts.settings } });
  await service.start();
  const worker = opts.worker === false ? undefined : await startIngestWorker({ redisUrl: privateRedis.url, dataDir, limits: opts.workerLimits });
  return {
    dataDir,
    db,
    redis,
    privateRedis,
    redisOwner,
    registry,
    service,
    worker,
    ingest: (file, hints = {}, fileName = basename(file)) => service.submit({ kind: 'upload', body: createReadStream(file), fileName }, hints, 60_000),
    async close() {
      await worker?.close();
      await service.close();
      redisOwner.close();
      db.close();
      // Disconnects `redis` before the server goes.
      await privateRedis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
