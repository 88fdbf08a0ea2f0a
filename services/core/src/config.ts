/**
 * The one configuration object of the service, read from the environment with defaults. The server
 * CLI overlays its flags on top; every other module receives the resolved object, never reads env.
 */
import { resolve } from 'node:path';
import { DEFAULT_LIMITS, type Limits } from '@lbc/contract';
import { blobS3FromEnv, type BlobS3Settings } from './store/s3-blobs.ts';

export interface LbcConfig {
  /** SQLite index, blobs, private redis socket. */
  dataDir: string;
  /** Unset ⇒ the server starts a private redis-server under dataDir. */
  redisUrl: string | undefined;
  /** Unset ⇒ dockerode's default (/var/run/docker.sock). */
  dockerHost: string | undefined;
  port: number;
  host: string;
  /**
   * PEM files the API serves HTTPS with (LBC_TLS_CERT, LBC_TLS_KEY): tokens and sources cross the
   * network between hosts of a farm. Unset: plain HTTP (loopback, or TLS ended by a proxy).
   */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Compile image tag; unset ⇒ the worker's DEFAULT_IMAGE. */
  image: string | undefined;
  limits: Limits;
  workerConcurrency: number;
  /** A worker's job lock; a worker cut off or killed loses its job to another after about this long. */
  workerLockDurationMs: number;
  /** How often workers look for such stalled jobs. */
  workerStalledIntervalMs: number;
  /** Artifact cache bound; kernel BTF blobs are not counted (they are never evicted). */
  cacheMaxBytes: number;
  /** POST /v1/compile answers LBC_ERR_QUEUE_FULL beyond this many waiting jobs. */
  maxQueuedJobs: number;
  /** How long a compile failure answers 422 without recompiling. */
  failureTtlSeconds: number;
  /** How long other API nodes find a compiled object by its cache key (a reference in Redis; the bytes are in the blob store); 0 = not shared. */
  sharedArtifactTtlSeconds: number;
  /** The farm's S3-compatible blob store (LBC_BLOB_S3_*); unset: blobs stay on the nodes' disks, fetched by hash from the node holding them. */
  blobS3: BlobS3Settings | undefined;
  /** Bound on every Redis round trip made on a request path, so a dead Redis answers 503 quickly. */
  redisTimeoutMs: number;
  logLevel: string;
  /**
   * Who may call the API without a token: "loopback" (clients on this machine), "off" (everyone:
   * only behind your own gateway) or "required" (nobody). Default: loopback when the API listens on
   * a loopback address, required otherwise.
   */
  authMode: AuthMode;
  /** Requests per minute and tenant (token holders; anonymous loopback clients are not limited). 0 = no limit. */
  rateLimitPerMinute: number;
  /** Compiles one tenant may have queued or running at once (429 LBC_ERR_TENANT_QUEUE_FULL beyond). 0 = no bound. */
  maxQueuedJobsPerTenant: number;
  /**
   * Loopback callers in "loopback" mode may compile and read; administering (tokens, taking over a
   * kernel release, /metrics, the dashboard) needs an admin token unless this is set
   * (LBC_LOOPBACK_ADMIN=1: every local process is an admin, as before).
   */
  loopbackAdmin: boolean;
  /** Who may read /metrics: "admin" (default), "tenant" (any caller let in) or "public" (a scraper without a token). */
  metricsAccess: MetricsAccess;
  /**
   * Deadline for receiving a whole request (headers and body) from its first byte; past it the answer
   * is 408 LBC_ERR_BODY_TIMEOUT and the connection is closed (a slow body holds nothing for long).
   */
  bodyTimeoutMs: number;
  /** Deadline for a request's headers (408 LBC_ERR_HEADERS_TIMEOUT, closed). At most bodyTimeoutMs. */
  headersTimeoutMs: number;
  /** Open connections one client address may hold; more are answered 429 LBC_ERR_TOO_MANY_CONNECTIONS and closed. 0 = no cap. */
  maxConnectionsPerClient: number;
  /**
   * A body refused before it was read (413 over the limit) is still read and thrown away up to this many
   * bytes, so the client, still sending, reads the answer instead of a reset connection.
   */
  refusedBodyDrainBytes: number;
  /**
   * "shared" (default): one cache for every tenant (a tenant who compiles the same request as another
   * gets the cached object). "tenant": each tenant's compiles are cached apart (keys carry the tenant).
   */
  cacheScope: CacheScope;
  /**
   * "newest" (default): CO-RE programs compile once per arch against the newest trusted kernel's
   * header (kernels/core-header.ts). "off": every program compiles against its target's own header.
   */
  coreHeader: 'newest' | 'off';
  /** Bounds of each tool run over a kernel's (uploaded) BTF when a worker builds its kernel set; unset: the worker's defaults. */
  kernelSetTimeoutMs: number | undefined;
  kernelSetCpuSeconds: number | undefined;
}

export type MetricsAccess = 'admin' | 'tenant' | 'public';
export type CacheScope = 'shared' | 'tenant';

export type AuthMode = 'loopback' | 'required' | 'off';
export const AUTH_MODES: readonly AuthMode[] = ['loopback', 'required', 'off'];

/** 127.0.0.0/8, ::1 and their IPv4-mapped form; "localhost" as people write it. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  return a === 'localhost' || a === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

function authModeFrom(env: Env, host: string): AuthMode {
  const raw = env.LBC_AUTH;
  if (raw === undefined || raw === '') return isLoopbackAddress(host) ? 'loopback' : 'required';
  if (!(AUTH_MODES as string[]).includes(raw)) throw new Error(`LBC_AUTH must be one of ${AUTH_MODES.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as AuthMode;
}

type Env = Record<string, string | undefined>;

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

function flag(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new Error(`${name} must be 1 or 0, got ${JSON.stringify(raw)}`);
}

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return Math.floor(n);
}

function tlsFrom(env: Env): LbcConfig['tls'] {
  const certFile = env.LBC_TLS_CERT || undefined;
  const keyFile = env.LBC_TLS_KEY || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new Error(`HTTPS needs both LBC_TLS_CERT and LBC_TLS_KEY (PEM files); only ${certFile ? 'LBC_TLS_CERT' : 'LBC_TLS_KEY'} is set`);
  return { certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

function limitsFrom(env: Env): Limits {
  const out = { ...DEFAULT_LIMITS };
  for (const field of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    // maxSourceBytes → LBC_LIMIT_MAX_SOURCE_BYTES
    const name = `LBC_LIMIT_${field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    out[field] = int(env, name, DEFAULT_LIMITS[field]);
  }
  return out;
}

export function loadConfig(env: Env = process.env, overrides: Partial<LbcConfig> = {}): LbcConfig {
  const config: LbcConfig = {
    dataDir: resolve(env.LBC_DATA_DIR || './.data'),
    redisUrl: env.REDIS_URL || undefined,
    dockerHost: env.DOCKER_HOST || undefined,
    port: int(env, 'LBC_PORT', 8080),
    host: env.LBC_HOST || '127.0.0.1',
    tls: tlsFrom(env),
    image: env.LBC_IMAGE || undefined,
    limits: limitsFrom(env),
    workerConcurrency: int(env, 'LBC_WORKER_CONCURRENCY', 2),
    workerLockDurationMs: int(env, 'LBC_LOCK_DURATION_MS', 30_000),
    workerStalledIntervalMs: int(env, 'LBC_STALLED_INTERVAL_MS', 30_000),
    cacheMaxBytes: int(env, 'LBC_CACHE_MAX_BYTES', 1024 * 1024 * 1024),
    maxQueuedJobs: int(env, 'LBC_MAX_QUEUED_JOBS', 1000),
    failureTtlSeconds: int(env, 'LBC_FAILURE_TTL_SECONDS', 600),
    sharedArtifactTtlSeconds: int(env, 'LBC_SHARED_ARTIFACT_TTL_SECONDS', 7 * 24 * 3600),
    blobS3: blobS3FromEnv(env),
    redisTimeoutMs: int(env, 'LBC_REDIS_TIMEOUT_MS', 5000),
    logLevel: env.LBC_LOG_LEVEL || 'info',
    authMode: 'loopback',
    rateLimitPerMinute: int(env, 'LBC_RATE_LIMIT_PER_MINUTE', 600),
    maxQueuedJobsPerTenant: int(env, 'LBC_MAX_QUEUED_JOBS_PER_TENANT', 20),
    loopbackAdmin: flag(env, 'LBC_LOOPBACK_ADMIN'),
    metricsAccess: oneOf(env, 'LBC_METRICS_ACCESS', ['admin', 'tenant', 'public'] as const, 'admin'),
    bodyTimeoutMs: int(env, 'LBC_BODY_TIMEOUT_MS', 60_000),
    headersTimeoutMs: int(env, 'LBC_HEADERS_TIMEOUT_MS', 10_000),
    maxConnectionsPerClient: int(env, 'LBC_MAX_CONNECTIONS_PER_CLIENT', 128),
    refusedBodyDrainBytes: int(env, 'LBC_REFUSED_BODY_DRAIN_BYTES', 8 * 1024 * 1024),
    cacheScope: oneOf(env, 'LBC_CACHE_SCOPE', ['shared', 'tenant'] as const, 'shared'),
    coreHeader: oneOf(env, 'LBC_CORE_HEADER', ['newest', 'off'] as const, 'newest'),
    kernelSetTimeoutMs: env.LBC_KERNEL_SET_TIMEOUT_MS ? int(env, 'LBC_KERNEL_SET_TIMEOUT_MS', 0) : undefined,
    kernelSetCpuSeconds: env.LBC_KERNEL_SET_CPU_SECONDS ? int(env, 'LBC_KERNEL_SET_CPU_SECONDS', 0) : undefined,
  };
  const merged = { ...config, ...overrides, ...(overrides.dataDir ? { dataDir: resolve(overrides.dataDir) } : {}) };
  // The default depends on the address finally listened on (a --host flag counts).
  if (!overrides.authMode) merged.authMode = authModeFrom(env, merged.host);
  return merged;
}
