/** The API app with ingestion wired to a real ingest pipeline (see worker/test/ingest-harness.ts). */
import { join } from 'node:path';
import { ArtifactCache, BlobStore, CompileProducer, lbcHeaderSha256, loadConfig, scanSource, type IngestSettings } from '@lbc/core';
import { buildApp, type ApiApp } from '@lbc/api';
import { startIngestHarness, type IngestHarness } from '../../worker/test/ingest-harness.ts';

export interface IngestApp {
  app: ApiApp;
  h: IngestHarness;
  close(): Promise<void>;
}

export async function startIngestApp(settings: Partial<IngestSettings> = {}): Promise<IngestApp> {
  const h = await startIngestHarness({ settings });
  const config = loadConfig({}, { dataDir: h.dataDir, redisUrl: h.privateRedis.url });
  const producer = new CompileProducer({ redisUrl: h.privateRedis.url, timeoutMs: 5000, maxQueuedJobs: 100, failureTtlSeconds: 60 });
  await producer.ready(5000);
  const cache = new ArtifactCache(h.db, new BlobStore(join(h.dataDir, 'blobs')), config.cacheMaxBytes);
  const app = buildApp({ config, cache, registry: h.registry, producer, ingest: h.service, toolchain: 'test-toolchain', lbcHeaderSha256: lbcHeaderSha256(), scanSource });
  await app.ready();
  return {
    app,
    h,
    async close() {
      await app.close();
      await producer.close();
      await h.close();
    },
  };
}
