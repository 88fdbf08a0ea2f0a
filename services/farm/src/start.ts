/**
 * Wires one lbc process: Redis (private unless REDIS_URL), Docker and the compile image, the
 * SQLite data directory, the host kernel, then the API and/or an in-process worker.
 */
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { LbcError } from '@lbc/contract';
import {
  ArtifactCache,
  BlobStore,
  BLOB_LOCATION_TTL_SECONDS,
  FarmBlobs,
  boundLegacyLocationRecords,
  dropLegacyBlobKeys,
  S3Blobs,
  CompileProducer,
  DEFAULT_IMAGE,
  KernelCatalog,
  KernelRegistry,
  RedisOwner,
  describeRedisUrl,
  lbcHeaderSha256,
  openDatabase,
  registerHostKernel,
  scanSource,
  toolchainFromWorkers,
  toolchainIdentity,
  isLoopbackAddress,
  type LbcConfig,
} from '@lbc/core';
import { buildApp, IngestService, loadIngestSettings, TokenStore, VerdictCache } from '@lbc/api';
import { LAB_VERSION, ensureImage, startIngestWorker, startVerifyWorker, startWorker, verifyInGuest } from '@lbc/worker';
import { dockerClient } from './docker-client.ts';
import { startOwnedRedis } from './private-redis.ts';

export type ServerMode = 'all' | 'api' | 'worker';

export interface RunningServer {
  /** Where the API listens (when this process runs one). */
  address?: string;
  redisUrl: string;
  close(): Promise<void>;
}

/** Image identity from the local engine, or — an API-only host without one — from live workers. */
async function apiToolchain(docker: Dockerode, image: string, redis: RedisOwner, log: Logger): Promise<{ toolchain: string; dockerUsed: boolean }> {
  try {
    return { toolchain: await toolchainIdentity(docker, image), dockerUsed: true };
  } catch (err) {
    log.info({ image, reason: (err as Error).message }, 'no local compile image: waiting for a worker to announce its identity');
  }
  const toolchain = await toolchainFromWorkers(redis.command, image, WORKER_WAIT_MS);
  if (!toolchain) {
    throw new LbcError('LBC_ERR_SANDBOX_UNAVAILABLE', `this host has no Docker engine or image ${image}, and no worker with it announced itself within ${WORKER_WAIT_MS / 1000} s`, { image });
  }
  return { toolchain, dockerUsed: false };
}

const WORKER_WAIT_MS = 120_000;

export async function startServer(config: LbcConfig, mode: ServerMode, log: Logger): Promise<RunningServer> {
  const closers: (() => Promise<void> | void)[] = [];
  let redis: RedisOwner | undefined;
  const close = async () => {
    // What the connections report while being closed is the shutdown itself, not an outage.
    redis?.closing();
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        log.warn({ err }, 'shutdown step failed');
      }
    }
  };
  try {
    let redisUrl = config.redisUrl;
    // A private redis-server listens on loopback: no node of another host can join this farm, so
    // nothing of it (the worker's blob endpoint included) need listen beyond loopback.
    const privateRedis = !redisUrl;
    if (!redisUrl) {
      const owned = await startOwnedRedis(config.dataDir);
      closers.push(() => owned.stop());
      redisUrl = owned.url;
      log.info({ redis: redisUrl }, 'started a private redis-server (set REDIS_URL to use another)');
    } else {
      log.info({ redis: describeRedisUrl(redisUrl) }, 'using Redis');
    }
    // The process's one Redis owner: every part borrows its connections, and one outage is one report.
    // Closed after every part (closers run in reverse), before a private redis-server stops.
    const owner = new RedisOwner({ url: redisUrl, timeoutMs: config.redisTimeoutMs, log: log.child({ component: 'redis' }) });
    redis = owner;
    closers.push(() => owner.close());

    const docker = dockerClient(config.dockerHost);
    const image = config.image ?? DEFAULT_IMAGE;
    // An API node needs no Docker engine: it learns the compile image's identity from the workers.
    if (mode !== 'api') {
      try {
        await docker.ping();
      } catch (err) {
        throw new LbcError('LBC_ERR_SANDBOX', `the Docker engine does not answer (${config.dockerHost ?? '/var/run/docker.sock'}): ${(err as Error).message}`, undefined, { cause: err });
      }
      await ensureImage(docker, image, (line) => log.info({ image }, line));
    }

    // The worker first: once the API answers, compiles can run.
    if (mode !== 'api') {
      const worker = await startWorker({ redisUrl, dataDir: config.dataDir, image, concurrency: config.workerConcurrency, lockDurationMs: config.workerLockDurationMs, stalledIntervalMs: config.workerStalledIntervalMs, docker, maxArtifactBytes: config.limits.maxArtifactBytes, kernelSetTimeoutMs: config.kernelSetTimeoutMs, kernelSetCpuSeconds: config.kernelSetCpuSeconds, log: log.child({ component: 'worker' }), redis: owner, labVersion: LAB_VERSION, blobS3: config.blobS3, blobLocationTtlSeconds: Math.max(BLOB_LOCATION_TTL_SECONDS, config.sharedArtifactTtlSeconds), ...(privateRedis ? { blobListenHost: '127.0.0.1' } : {}) });
      closers.push(() => worker.close());
      log.info({ concurrency: config.workerConcurrency, toolchain: worker.toolchain }, 'lbc worker started');
      // Kernel package ingestion: one at a time, beside the compiles (packages come from <dataDir>/ingest).
      const ingestWorker = await startIngestWorker({ redisUrl, dataDir: config.dataDir, image, docker, redis: owner, blobs: worker.blobs });
      closers.push(() => ingestWorker.close());
      // lbc verify: kernels booted in the lab (QEMU in a hardened container of this engine), as many at once as compiles run.
      const verifyWorker = await startVerifyWorker({ redisUrl, dataDir: config.dataDir, lab: { run: (input) => verifyInGuest({ ...input, sandbox: { docker } }), version: LAB_VERSION }, concurrency: config.workerConcurrency, log: log.child({ component: 'verify' }), redis: owner, blobs: worker.blobs });
      closers.push(() => verifyWorker.close());
    }
    let address: string | undefined;
    if (mode !== 'worker') {
      const db = openDatabase(config.dataDir);
      closers.push(() => void db.close());
      const blobs = new BlobStore(join(config.dataDir, 'blobs'));
      const cache = new ArtifactCache(db, blobs, config.cacheMaxBytes);
      const producer = new CompileProducer({ redis: owner, maxQueuedJobs: config.maxQueuedJobs, failureTtlSeconds: config.failureTtlSeconds });
      closers.push(() => producer.close());
      await producer.ready(30_000);
      const { toolchain, dockerUsed } = await apiToolchain(docker, image, owner, log);
      // Objects and kernel BTF by hash: this node's disk, found by other nodes through a location record or in S3.
      // Location records outlive the compile records that lead to them (renewed on every use).
      const locationTtlSeconds = Math.max(BLOB_LOCATION_TTL_SECONDS, config.sharedArtifactTtlSeconds);
      const farmBlobs = new FarmBlobs({ disk: blobs, redis: owner.command, locationTtlSeconds, ...(config.blobS3 ? { s3: new S3Blobs(config.blobS3) } : {}) });
      closers.push(() => farmBlobs.close());
      const registry = new KernelRegistry(db, blobs, owner.command, { guardRedis: (w, what) => owner.guard(w, what), farmBlobs });
      const host = await registerHostKernel(registry);
      if (host) log.info({ release: host.release, btfSha256: host.btfSha256 }, 'host kernel registered');
      else log.warn('this host has no /sys/kernel/btf/vmlinux: upload kernels with PUT /v1/kernels/<sha256>');
      log.info({ kernels: await registry.republishAll() }, 'kernel BTF published to the blob store');
      const legacy = await owner.guard(dropLegacyBlobKeys(owner.command), 'dropping blob bytes earlier versions kept in Redis');
      if (legacy > 0) log.info({ keys: legacy }, 'blob bytes of an earlier version removed from Redis (the blob store holds them now)');
      const unbounded = await owner.guard(boundLegacyLocationRecords(owner.command, locationTtlSeconds), 'bounding location records of an earlier version', 60_000);
      if (unbounded > 0) log.info({ keys: unbounded }, 'blob location records of an earlier version given a TTL');

      const tokens = new TokenStore(db);
      if (config.authMode === 'off' && !isLoopbackAddress(config.host)) log.warn({ host: config.host }, 'LBC_AUTH=off on a non-loopback address: anyone who reaches it can compile, register kernels and manage tokens');
      // The catalog records its builds in SQLite (kernel_catalogs) beside the files under <dataDir>/catalog.
      const catalog = new KernelCatalog({ db, registry, dir: join(config.dataDir, 'catalog') });
      const ingest = new IngestService({ dataDir: config.dataDir, db, registry, redis: owner, settings: loadIngestSettings(process.env) });
      closers.push(() => ingest.close());
      await ingest.start(30_000);
      const app = buildApp({ config, cache, registry, catalog, producer, redis: owner, ingest, toolchain, lbcHeaderSha256: lbcHeaderSha256(), scanSource, docker: dockerUsed ? docker : undefined, tokens, verdicts: new VerdictCache(db), logger: { level: config.logLevel } });
      closers.push(() => app.close());
      address = await app.listen({ port: config.port, host: config.host });
      log.info({ address, docs: `${address}/docs`, dashboard: `${address}/dashboard`, auth: config.authMode }, 'lbc API listening');
    }
    return { address, redisUrl, close };
  } catch (err) {
    await close();
    throw err;
  }
}
