/**
 * Prometheus metrics of one API process. A registry per app (not prom-client's global one) so
 * tests can build many apps in one process.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CacheEvent } from '@lbc/core';

export interface ApiMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'route'>;
  compileSeconds: Histogram<never>;
  cacheEvents: Counter<'event'>;
  compilesInFlight: Gauge<never>;
  /** Compile jobs settled by this process, by outcome (ok, error: the program did not compile). */
  compileResults: Counter<'outcome'>;
  /** Requests refused by authentication or quota: missing, invalid, forbidden, rate-limited, tenant-queue-full. */
  authDenied: Counter<'reason'>;
  countCacheEvent(event: CacheEvent): void;
}

/** What the queue gauges read at scrape time; states a source does not report are left out. */
export interface QueueCounts {
  waiting: number;
  active: number;
  delayed?: number;
  completed?: number;
  failed?: number;
  /** Workers alive (worker registry). */
  workers?: number;
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;

/** queueCounts is called at scrape time; it must answer quickly (bounded Redis calls). */
export function createMetrics(queueCounts: () => Promise<QueueCounts>): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lbc_api_' });
  const httpRequests = new Counter({
    name: 'lbc_http_requests_total',
    help: 'HTTP requests by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'lbc_http_request_duration_seconds',
    help: 'HTTP request duration by route template',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  const compileSeconds = new Histogram({
    name: 'lbc_compile_duration_seconds',
    help: 'Time clang spent on a compile, as measured by the worker',
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const cacheEvents = new Counter({
    name: 'lbc_cache_events_total',
    help: 'Artifact cache events: hit, miss, corrupt (dropped), evict, store',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const compilesInFlight = new Gauge({
    name: 'lbc_compiles_in_flight',
    help: 'Compile requests of this process waiting for a worker',
    registers: [registry],
  });
  // One read per scrape serves both gauges (prom-client collects them concurrently).
  let lastRead: { at: number; counts: Promise<QueueCounts | null> } | undefined;
  const readCounts = () => {
    if (!lastRead || Date.now() - lastRead.at > 1000) lastRead = { at: Date.now(), counts: queueCounts().catch(() => null) };
    return lastRead.counts;
  };
  const queueDepth = new Gauge({
    name: 'lbc_queue_depth',
    help: 'Compile jobs in the queue by state (-1 when Redis does not answer)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await readCounts();
      for (const state of QUEUE_STATES) {
        const n = counts ? counts[state] : -1;
        if (n !== undefined) this.set({ state }, n);
      }
    },
  });
  const workersAlive = new Gauge({
    name: 'lbc_workers_alive',
    help: 'Compile workers heard from recently (-1 when Redis does not answer)',
    registers: [registry],
    async collect() {
      const counts = await readCounts();
      if (!counts) this.set(-1);
      else if (counts.workers !== undefined) this.set(counts.workers);
    },
  });
  void queueDepth;
  void workersAlive;
  const compileResults = new Counter({
    name: 'lbc_compile_results_total',
    help: 'Compile jobs settled by this API process, by outcome (ok, error)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const authDenied = new Counter({
    name: 'lbc_auth_denied_total',
    help: 'Requests refused by authentication or quota, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const outcome of ['ok', 'error'] as const) compileResults.inc({ outcome }, 0);
  for (const event of ['hit', 'miss', 'corrupt', 'evict', 'store'] as const) cacheEvents.inc({ event }, 0);
  return {
    registry,
    httpRequests,
    httpDuration,
    compileSeconds,
    cacheEvents,
    compilesInFlight,
    compileResults,
    authDenied,
    countCacheEvent: (event) => cacheEvents.inc({ event }),
  };
}
