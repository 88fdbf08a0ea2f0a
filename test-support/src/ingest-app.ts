/** The API app with ingestion wired to a real ingest pipeline (see ingest-harness.ts). */
import { createReadStream } from 'node:fs';
import { basename, join } from 'node:path';
import Dockerode from 'dockerode';
import { ArtifactCache, BlobStore, CompileProducer, DEFAULT_IMAGE, lbcHeaderSha256, loadConfig, scanSource, toolchainIdentity, type LbcConfig } from '@lbc/core';
import { TokenStore, type IngestSettings, buildApp, type ApiApp } from '@lbc/api';
import { startWorker } from '@lbc/worker';
import { startIngestHarness, type IngestHarness } from './ingest-harness.ts';

export interface IngestApp {
  app: ApiApp;
  h: IngestHarness;
  tokens: TokenStore;
  close(): Promise<void>;
}

/**
 * `compile`: also a compile worker and the real toolchain identity, for compiling against ingested
 * kernels; `config`: overrides (e.g. authMode), tokens from the returned store are valid;
 * `ingestWorker: false`: no ingest worker on the app's data directory (a test runs one elsewhere).
 */
export async function startIngestApp(settings: Partial<IngestSettings> = {}, opts: { compile?: boolean; config?: Partial<LbcConfig>; ingestWorker?: boolean } = {}): Promise<IngestApp> {
  const h = await startIngestHarness({ settings, worker: opts.ingestWorker });
  const docker = new Dockerode();
  const compileWorker = opts.compile ? await startWorker({ redisUrl: h.privateRedis.url, dataDir: h.dataDir, concurrency: 1, docker }) : undefined;
  const toolchain = opts.compile ? await toolchainIdentity(docker, DEFAULT_IMAGE) : 'test-toolchain';
  // Ingestion suites post anonymously from loopback as an operator would have before loopback callers
  // stopped being admins; ingest-cli.test.ts runs with the default (lbc-admin mints its own token).
  const config = loadConfig({}, { dataDir: h.dataDir, redisUrl: h.privateRedis.url, loopbackAdmin: true, ...opts.config });
  const tokens = new TokenStore(h.db);
  const producer = new CompileProducer({ redis: h.redisOwner, maxQueuedJobs: 100, failureTtlSeconds: 60 });
  await producer.ready(5000);
  const cache = new ArtifactCache(h.db, new BlobStore(join(h.dataDir, 'blobs')), config.cacheMaxBytes);
  const app = buildApp({ config, cache, registry: h.registry, producer, redis: h.redisOwner, ingest: h.service, tokens, toolchain, docker, lbcHeaderSha256: lbcHeaderSha256(), scanSource });
  await app.ready();
  return {
    app,
    h,
    tokens,
    async close() {
      await app.close();
      await compileWorker?.close();
      await producer.close();
      await h.close();
    },
  };
}

/** POST /v1/kernels/ingest with `file` as the request body, waiting up to `waitMs` for the outcome. */
export const uploadKernelPackage = (app: ApiApp, file: string, waitMs: number) =>
  app.inject({
    method: 'POST',
    url: '/v1/kernels/ingest',
    query: { name: basename(file), waitMs: String(waitMs) },
    headers: { 'content-type': 'application/octet-stream' },
    payload: createReadStream(file),
  });
