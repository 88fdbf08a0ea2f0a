/**
 * The API as a fastify app factory: everything it needs comes in as dependencies, so tests build
 * it around a private Redis and data directory and call it with app.inject().
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { KernelCatalog, SharedArtifacts, blobNodeUrl, ensureFarmSecret, readFarmSecret, hostPathScrub, stageMark, stageTimingOn, openDatabase, liveWorkers, verifyJobIdPattern, type ArtifactCache, type CompileProducer, type KernelRegistry, type LbcConfig, type RedisOwner } from '@lbc/core';
import { VerdictCache } from './verify/verdict-cache.ts';
import { VerifyProducer } from './verify/verify-producer.ts';
import { SharedTokens } from './auth/shared-tokens.ts';
import type { TokenStore } from './auth/token-store.ts';
import { installAuth } from './auth/install-auth.ts';
import { TenantJobBound } from './auth/tenant-job-bound.ts';
import { TokenVerifier } from './auth/token-verifier.ts';
import { tokenRoutes } from './auth/token-routes.ts';
import { dashboardRoutes } from './dashboard/dashboard-routes.ts';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.ts';
import { CompileService } from './compile/compile-service.ts';
import type { SourceScanner } from './compile/validate-request.ts';
import { frameworkErrorHandler, installErrorHandlers } from './error-handler.ts';
import { capConnectionsPerClient } from './connections/client-connections.ts';
import { drainRefusedBodies } from './connections/refused-body.ts';
import { deadlineClientErrorHandler, deadlineServerOptions } from './connections/request-deadlines.ts';
import { createMetrics, type ApiMetrics } from './metrics.ts';
import { artifactRoutes } from './compile/artifact-routes.ts';
import { catalogRoutes } from './catalog/catalog-routes.ts';
import { compileRoutes } from './compile/compile-routes.ts';
import { healthRoutes, type DockerPing } from './routes/health.ts';
import { jobRoutes } from './compile/job-routes.ts';
import { kernelRoutes } from './kernels/kernel-routes.ts';
import { ingestRoutes } from './ingest/ingest-routes.ts';
import type { IngestService } from './ingest/ingest-service.ts';
import { limitRoutes } from './routes/limits.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { verifyRoutes } from './verify/verify-routes.ts';
import { VerifyService } from './verify/verify-service.ts';

export interface ApiDeps {
  config: LbcConfig;
  cache: ArtifactCache;
  registry: KernelRegistry;
  /** Kernel package ingestion (POST /v1/kernels/ingest); absent: that route answers LBC_ERR_INGEST_FORBIDDEN. */
  ingest?: IngestService;
  /** Struct/func/type catalog of the registered kernels; by default one under <dataDir>/catalog. */
  catalog?: KernelCatalog;
  producer: CompileProducer;
  /** The process's Redis (the server creates it once): auth, tokens, job readers, bounds, the worker registry. */
  redis: RedisOwner;
  /** Toolchain identity (compile image id + clang version) for cache keys. */
  toolchain: string;
  lbcHeaderSha256: string;
  scanSource: SourceScanner;
  /** For /readyz; omitted when this process does not talk to Docker. */
  docker?: DockerPing;
  logger?: FastifyServerOptions['logger'];
  /** Bearer tokens; absent ⇒ no token is valid (anonymous access only, as config.authMode allows). */
  tokens?: TokenStore;
  /** lbc verify's verdicts (SQLite); absent ⇒ kept in the data directory's database, opened here. */
  verdicts?: VerdictCache;
}

export type ApiApp = FastifyInstance & { metrics: ApiMetrics; compileService: CompileService; verifyService: VerifyService };

const DEFAULT_BODY_LIMIT = 1024 * 1024;

function tlsFiles(tls: NonNullable<LbcConfig['tls']>): { cert: Buffer; key: Buffer } {
  const read = (variable: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give a readable PEM file`, { cause: err });
    }
  };
  return { cert: read('LBC_TLS_CERT', tls.certFile), key: read('LBC_TLS_KEY', tls.keyFile) };
}

/** Plugins load on app.ready() (app.inject() and app.listen() call it). */
export function buildApp(deps: ApiDeps): ApiApp {
  const { producer, redis, cache, config } = deps;
  const deadlines = deadlineServerOptions(config);
  const options = {
    logger: deps.logger ?? false,
    requestTimeout: deadlines.requestTimeout,
    http: deadlines.server,
    clientErrorHandler: deadlineClientErrorHandler(config),
    // The router's own refusals (a path that is not a URL, a parameter too long) in the catalogue's shape too.
    frameworkErrors: frameworkErrorHandler,
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Unknown body fields are an error, not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    // Logged as reqId on every line of the request; the worker logs the same field.
    genReqId: requestIdOf,
  };
  // An HTTPS server has other Node types than an HTTP one, and nothing here depends on which.
  const app = (config.tls ? Fastify({ ...options, https: { ...tlsFiles(config.tls), ...deadlines.server } }) : Fastify(options)) as unknown as FastifyInstance;
  if (stageTimingOn) {
    app.addHook('onRequest', async (request) => stageMark('api.request', `${request.method} ${request.url}`));
    app.addHook('preHandler', async () => stageMark('api.handler'));
    app.addHook('onSend', async (request) => stageMark('api.send', request.url));
    app.addHook('onResponse', async (request) => stageMark('api.response', request.url));
  }
  const metrics = createMetrics(async () => {
    const [counts, workers] = await Promise.all([
      redis.guard(producer.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'), 'counting jobs'),
      redis.guard(liveWorkers(redis.command), 'reading the worker registry'),
    ]);
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
      workers: workers.length,
    };
  });
  cache.onEvent = metrics.countCacheEvent;
  // Nodes share no disk: objects are found by hash in the farm blob store, a compile's object by its reference in Redis.
  const shared = new SharedArtifacts(redis.command, config.sharedArtifactTtlSeconds);
  const blobs = deps.registry.farmBlobs;
  // Listening, this node serves its blobs (/internal/blobs): those written before (the kernels' BTF) are named as its own from now on.
  app.addHook('onListen', async () => {
    const port = (app.server.address() as AddressInfo).port;
    const url = blobNodeUrl(redis.command, port, { ...(deps.ingest?.settings.advertiseUrl ? { advertiseUrl: deps.ingest.settings.advertiseUrl } : {}), scheme: config.tls ? 'https' : 'http', listenHost: config.host });
    // The farm secret peers' blob credentials are made with (the first API node makes it).
    await redis
      .guard(ensureFarmSecret(redis.command).then(() => blobs.serveAt(url)), 'announcing this node\'s blobs')
      .catch((err: Error) => app.log.warn({ err: err.message }, 'blobs written so far are not announced yet (Redis); kernels are published again on their next compile'));
  });
  const verifyProducer = new VerifyProducer({ redis, maxQueuedJobs: config.maxQueuedJobs });
  app.addHook('onClose', async () => verifyProducer.close());
  app.addHook('onReady', async () => {
    await verifyProducer.ready().catch((err: Error) => app.log.warn({ err: err.message }, 'the verify queue is not ready yet (Redis); verify requests wait for it'));
  });
  // One bound per tenant over compiles and verify runs, each job probed in its own queue.
  const jobKey = (id: string) => (verifyJobIdPattern.test(id) ? verifyProducer.queue.toKey(id) : producer.queue.toKey(id));
  const jobBound = new TenantJobBound({ redis, jobKey, limit: config.maxQueuedJobsPerTenant });
  const compileService = new CompileService({ ...deps, metrics, shared, blobs, admitJob: (tenant, jobId) => jobBound.admit(tenant, jobId) });
  let verdicts = deps.verdicts;
  if (!verdicts) {
    const db = openDatabase(config.dataDir);
    app.addHook('onClose', async () => void db.close());
    verdicts = new VerdictCache(db);
  }
  const verifyService = new VerifyService({ config, registry: deps.registry, compile: compileService, producer: verifyProducer, redis, verdicts, scanSource: deps.scanSource, admitJob: (tenant, jobId) => jobBound.admit(tenant, jobId) });

  const catalog = deps.catalog ?? new KernelCatalog({ registry: deps.registry, dir: join(config.dataDir, 'catalog') });
  catalog.followRegistrations((err, kernel) => app.log.warn({ err, btfSha256: kernel.btfSha256 }, 'indexing a new kernel failed; its first catalog query retries'));
  app.addHook('onClose', async () => catalog.close());

  installErrorHandlers(app, DEFAULT_BODY_LIMIT, hostPathScrub({ [config.dataDir]: '<data>' }));
  // Before authentication: a client over its connection cap costs no token lookup.
  capConnectionsPerClient(app, config.maxConnectionsPerClient);
  drainRefusedBodies(app, { drainBytes: config.refusedBodyDrainBytes });
  app.addHook('onSend', async (request, reply) => void reply.header(REQUEST_ID_HEADER, request.id));
  // Before every route: who is asking, and may they.
  const guard = <T>(work: Promise<T>, what: string) => redis.guard(work, what);
  // API nodes share no disk: tokens made on one node reach the others as hashes in Redis.
  const sharedTokens = new SharedTokens(redis.command);
  installAuth(app, { config, tokens: new TokenVerifier({ store: deps.tokens, shared: sharedTokens, guard }), redis: redis.command, metrics });
  app.addHook('onReady', async () => {
    if (!deps.tokens) return;
    const live = await guard(sharedTokens.syncFrom(deps.tokens), 'sharing tokens').catch((err: Error) => {
      app.log.warn({ err: err.message }, 'tokens not shared with other API nodes yet (Redis); tokens made here still work here');
      return 0;
    });
    if (live > 0) app.log.info({ tokens: live }, 'tokens shared with the other API nodes');
  });
  // Before swagger, so the page and the queue board stay out of the API description.
  void app.register(async (scope) => dashboardRoutes(scope, { producer, redis, registry: deps.registry, cache, metrics }));
  // close() waits for in-flight requests; compile waits could otherwise hold it for minutes.
  app.addHook('preClose', async () => {
    compileService.drain();
    verifyService.drain();
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  void app.register(swagger, {
    openapi: {
      info: { title: 'lbc compile farm', version: '1', description: 'Remote eBPF compiles against known kernels. Error codes: LBC_ERR_* (docs/errors.md).' },
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  // Routes in a plugin after swagger's, so swagger sees every one of them.
  void app.register(async (api) => {
    compileRoutes(api, compileService, config.limits, (sha256) => cache.readBySha(sha256));
    jobRoutes(api, compileService);
    verifyRoutes(api, verifyService, config.limits);
    artifactRoutes(api, { cache, blobs, shared, farmSecret: () => readFarmSecret(redis.command), guardRedis: (work, what) => redis.guard(work, what) });
    kernelRoutes(api, deps.registry, config.limits);
    ingestRoutes(api, deps.ingest);
    catalogRoutes(api, catalog);
    limitRoutes(api, config.limits);
    healthRoutes(api, { redis, docker: deps.docker, dataDir: config.dataDir, timeoutMs: config.redisTimeoutMs });
    metricsRoutes(api, metrics);
    if (deps.tokens) tokenRoutes(api, { tokens: deps.tokens, shared: sharedTokens, guard });
  });

  const decorated = app as unknown as ApiApp;
  decorated.metrics = metrics;
  decorated.compileService = compileService;
  decorated.verifyService = verifyService;
  return decorated;
}
