/**
 * The one catalogue of what lbc keeps in Redis. Every key the project writes or reads is here: its
 * pattern, type, expiry, who writes it and who reads it; the functions below build the key strings,
 * and no other module spells a key (services/core/test/redis-keys.test.ts greps the tree for one).
 * Built like contract/src/errors.ts: a new key is a new entry, with its builder beside it.
 *
 * Redis holds the queues and small metadata only: objects, minimized BTF and kernel BTF live in the
 * content-addressed blob store (store/farm-blobs.ts); Redis says which node holds a blob and which
 * object a cache key produced. The `legacy*` entries are what earlier versions kept as bytes, removed
 * when a farm process starts.
 */
export const REDIS_PREFIX = 'lbc';
/** BullMQ's own key prefix (its default; lbc does not change it). */
export const BULLMQ_PREFIX = 'bull';

/** The BullMQ queues of the farm, by feature. */
export const QUEUE_NAMES = {
  compile: 'lbc-compile',
  ingest: 'lbc-ingest',
  verify: 'lbc-verify',
} as const;

export type RedisKeyType = 'string' | 'counter' | 'hash' | 'set' | 'sorted set' | 'BullMQ queue' | 'rate-limit counter';

export interface RedisKeySpec {
  /** The key as stored, `<name>` for the variable parts. */
  pattern: string;
  type: RedisKeyType;
  /** When it expires: "none", a time, or the setting that sets it. */
  ttl: string;
  writer: string;
  readers: string;
  /** What it holds. */
  holds: string;
}

export const REDIS_KEYS = {
  compileFailure: {
    pattern: 'lbc:failure:<cacheKey>',
    type: 'string',
    ttl: 'LBC_FAILURE_TTL_SECONDS (600 s)',
    writer: 'API (compile flow: a compile error result)',
    readers: 'API (before queueing the same cache key again)',
    holds: 'JSON of the failed compile result (code, diagnostics)',
  },
  compileCount: {
    pattern: 'lbc:stats:compiles',
    type: 'counter',
    ttl: 'none',
    writer: 'worker (INCR per clang run)',
    readers: 'tests (proof of deduplication)',
    holds: 'number of clang runs on the farm',
  },
  kernelSetFailure: {
    pattern: 'lbc:kernel-set-failure:<btfSha256>:<toolchainShort>',
    type: 'string',
    ttl: '30 days',
    writer: 'worker (bpftool failed on a kernel BTF)',
    readers: 'API (refuses compiles for that kernel at once)',
    holds: 'JSON {code, message}',
  },
  jobReaders: {
    pattern: 'lbc:job-readers:<jobId>',
    type: 'set',
    ttl: '86400 s',
    writer: 'API (compile and verify requests)',
    readers: 'API (GET /v1/jobs/:id, /v1/verify/:id: who may read the job)',
    holds: 'tenant names',
  },
  tenantJobs: {
    pattern: 'lbc:tenant:<tenant>:jobs',
    type: 'sorted set',
    ttl: '86400 s',
    writer: 'API (per-tenant queued-job bound)',
    readers: 'API',
    holds: 'job ids scored by the time they were added',
  },
  rateLimit: {
    pattern: 'lbc:ratelimit:<tenant>',
    type: 'rate-limit counter',
    ttl: 'the window (60 s)',
    writer: 'API (@fastify/rate-limit, nameSpace)',
    readers: 'API',
    holds: 'requests of a tenant in the current minute',
  },
  workers: {
    pattern: 'lbc:workers',
    type: 'hash',
    ttl: 'none (fields older than 10 s are pruned by readers)',
    writer: 'worker (heartbeat, one field per worker)',
    readers: 'API (readiness of the farm, toolchain of an API node without Docker, dashboard)',
    holds: 'worker id → "<redis time ms> <JSON report>"',
  },
  tokens: {
    pattern: 'lbc:tokens',
    type: 'hash',
    ttl: 'none (revoking deletes the field)',
    writer: 'API (token create, revoke, start-up sync)',
    readers: 'API (bearer token check on every node)',
    holds: 'sha256 of a token → JSON principal',
  },
  farmSecret: {
    pattern: 'lbc:farm-secret',
    type: 'string',
    ttl: 'none',
    writer: 'API (first start, SET NX)',
    readers: 'API and worker (HMAC credential for blobs by hash: objects, BTF, kernel packages, boot images)',
    holds: '32 random bytes, hex',
  },
  compiledRef: {
    pattern: 'lbc:compiled:<cacheKey>',
    type: 'string',
    ttl: 'LBC_SHARED_ARTIFACT_TTL_SECONDS (7 days)',
    writer: 'API (the node that settles a compile job)',
    readers: 'API (a cache miss on another node), verify worker',
    holds: 'JSON {sha256, warnings, minBtf?}: the reference of the object a cache key compiled to, never its bytes',
  },
  compiledSha: {
    pattern: 'lbc:compiled-sha:<sha256>',
    type: 'string',
    ttl: 'LBC_SHARED_ARTIFACT_TTL_SECONDS (7 days)',
    writer: 'API (with compiledRef)',
    readers: 'API (GET /v1/artifacts/:sha256 on a node that never saw the compile)',
    holds: 'the cache key that produced this object',
  },
  blobLocation: {
    pattern: 'lbc:blob-at:<sha256>',
    type: 'set',
    ttl: 'max(7 days, LBC_SHARED_ARTIFACT_TTL_SECONDS), renewed when a node writes, fetches or serves the blob (a holder that lost it is dropped when a fetch finds it gone; an ingested package\'s record is deleted; records of earlier versions get the TTL when a farm process starts)',
    writer: 'worker and API (a node that put, fetched or served a blob; not in S3 mode)',
    readers: 'any node missing the blob (fetched from a holder by hash, verified)',
    holds: 'URLs of the nodes that hold the blob (objects, minimized BTF, kernel BTF, boot images, kernel packages awaiting ingestion) on their disk',
  },
  legacyKernelBtf: {
    pattern: 'lbc:btf:<btfSha256>',
    type: 'string',
    ttl: 'removed when a farm process starts (dropLegacyBlobKeys)',
    writer: 'earlier versions only',
    readers: 'none',
    holds: 'raw kernel BTF, which the blob store holds now',
  },
  legacyArtifact: {
    pattern: 'lbc:artifact:<sha256>',
    type: 'hash',
    ttl: 'removed when a farm process starts (dropLegacyBlobKeys)',
    writer: 'earlier versions only',
    readers: 'none',
    holds: 'a compiled object, which the blob store holds now',
  },
  legacyArtifactKey: {
    pattern: 'lbc:artifact-key:<cacheKey>',
    type: 'string',
    ttl: 'removed when a farm process starts (dropLegacyBlobKeys)',
    writer: 'earlier versions only',
    readers: 'none',
    holds: 'replaced by compiledRef',
  },
  compileQueue: {
    pattern: 'bull:lbc-compile:<…>',
    type: 'BullMQ queue',
    ttl: 'jobs: 10 min after completion, 1 h after failure',
    writer: 'API (CompileProducer), verify worker (its kernels\' compiles)',
    readers: 'worker (compile), API',
    holds: "BullMQ's own keys: job hashes, wait/active/completed/failed lists, events stream",
  },
  ingestQueue: {
    pattern: 'bull:lbc-ingest:<…>',
    type: 'BullMQ queue',
    ttl: 'jobs: 7 days after completion, 1 day after failure',
    writer: 'API (IngestService)',
    readers: 'worker (ingest), API',
    holds: "BullMQ's own keys",
  },
  verifyQueue: {
    pattern: 'bull:lbc-verify:<…>',
    type: 'BullMQ queue',
    ttl: 'jobs: 10 min after completion, 1 h after failure',
    writer: 'API (VerifyProducer)',
    readers: 'worker (verify), API',
    holds: "BullMQ's own keys",
  },
} as const satisfies Record<string, RedisKeySpec>;

export type RedisKeyName = keyof typeof REDIS_KEYS;

const key = (...parts: string[]) => [REDIS_PREFIX, ...parts].join(':');

/** The key strings, one builder per catalogue entry (same names). */
export const redisKey = {
  compileFailure: (cacheKey: string) => key('failure', cacheKey),
  compileCount: () => key('stats', 'compiles'),
  /** `toolchainShort`: toolchainShort(toolchain) (toolchain.ts). */
  kernelSetFailure: (btfSha256: string, toolchainShort: string) => key('kernel-set-failure', btfSha256, toolchainShort),
  jobReaders: (jobId: string) => key('job-readers', jobId),
  tenantJobs: (tenant: string) => key('tenant', tenant, 'jobs'),
  /** @fastify/rate-limit prepends its nameSpace to the tenant: rateLimit('') is that nameSpace. */
  rateLimit: (tenant: string) => `${key('ratelimit')}:${tenant}`,
  workers: () => key('workers'),
  tokens: () => key('tokens'),
  farmSecret: () => key('farm-secret'),
  compiledRef: (cacheKey: string) => key('compiled', cacheKey),
  compiledSha: (sha256: string) => key('compiled-sha', sha256),
  blobLocation: (sha256: string) => key('blob-at', sha256),
  legacyKernelBtf: (btfSha256: string) => key('btf', btfSha256),
  legacyArtifact: (sha256: string) => key('artifact', sha256),
  legacyArtifactKey: (cacheKey: string) => key('artifact-key', cacheKey),
  compileQueue: (rest: string) => [BULLMQ_PREFIX, QUEUE_NAMES.compile, rest].join(':'),
  ingestQueue: (rest: string) => [BULLMQ_PREFIX, QUEUE_NAMES.ingest, rest].join(':'),
  verifyQueue: (rest: string) => [BULLMQ_PREFIX, QUEUE_NAMES.verify, rest].join(':'),
} as const satisfies Record<RedisKeyName, (...args: string[]) => string>;
