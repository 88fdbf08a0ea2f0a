/**
 * The numbers behind the dashboard, gathered in one JSON answer: queue depth and throughput, live
 * workers and their load, compile latency, cache hit ratio, the kernel catalogue and the most
 * recent jobs with their outcome (a compile error's diagnostics included, as the user got them).
 */
import type { KernelInfo } from '@lbc/contract';
import { hostPathScrub, liveWorkers, type ArtifactCache, type CompileJob, type CompileProducer, type KernelRegistry, type RedisOwner, type WorkerSeen } from '@lbc/core';
import type { ApiMetrics } from '../metrics.ts';

export interface DashboardDeps {
  producer: CompileProducer;
  /** The process's Redis: the worker registry, the clock, finished-job counts. */
  redis: RedisOwner;
  registry: KernelRegistry;
  cache: ArtifactCache;
  metrics: ApiMetrics;
}

export interface RecentJob {
  id: string;
  name: string;
  tenant: string | null;
  requestId: string | null;
  state: string;
  /** ok, compile-error (the program's fault: diagnostics), failed (the farm's fault: failedReason), or pending. */
  outcome: 'ok' | 'compile-error' | 'failed' | 'pending';
  submittedAt: string;
  /** Queue entry to finish. */
  totalMs: number | null;
  /** clang's own time (successful compiles). */
  compileMs: number | null;
  processedBy: string | null;
  attempts: number;
  cflags: string[];
  diagnostics: string | null;
  failedReason: string | null;
}

export interface DashboardSummary {
  generatedAt: string;
  queue: { waiting: number; active: number; delayed: number; completed: number; failed: number; finishedLast5m: number; perMinute: number };
  workers: (WorkerSeen & { seenAgoMs: number })[];
  latency: { samples: number; compileP50Ms: number | null; compileP90Ms: number | null; totalP50Ms: number | null; totalP90Ms: number | null; totalMaxMs: number | null };
  cache: { hits: number; misses: number; hitRatio: number | null; entries: number; bytes: number };
  kernels: KernelInfo[];
  recentJobs: RecentJob[];
}

const WINDOW_MS = 5 * 60_000;
/**
 * How many jobs of each state to read: a job carries its source and object, so a poll reads a
 * bounded handful rather than everything BullMQ keeps.
 */
const PER_STATE = { active: 10, waiting: 10, prioritized: 5, delayed: 5, completed: 30, failed: 10 } as const;
const RECENT = 40;

export async function dashboardSummary(deps: DashboardDeps): Promise<DashboardSummary> {
  const { producer, redis, registry, cache, metrics } = deps;
  const guard = <T>(w: Promise<T>, what: string) => redis.guard(w, what);
  const [counts, workers, jobs, redisNow] = await Promise.all([
    guard(producer.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'), 'counting jobs'),
    guard(liveWorkers(redis.command), 'reading the worker registry'),
    guard(
      Promise.all(Object.entries(PER_STATE).map(([state, n]) => producer.queue.getJobs([state as keyof typeof PER_STATE], 0, n - 1))).then((lists) => lists.flat()),
      'reading recent jobs',
    ),
    guard(redis.command.time(), 'reading the clock'),
  ]);
  const now = Number(redisNow[0]) * 1000 + Math.floor(Number(redisNow[1]) / 1000);
  // BullMQ's completed and failed sets are scored by finish time (jobs are kept 10 min, longer than the window).
  const [completedRecently, failedRecently] = await Promise.all(
    (['completed', 'failed'] as const).map((state) => guard(redis.command.zcount(producer.queue.toKey(state), now - WINDOW_MS, '+inf'), 'counting finished jobs')),
  );
  const finishedLast5m = completedRecently! + failedRecently!;
  const recentJobs = jobs
    .filter((j): j is CompileJob => Boolean(j))
    .sort((a, b) => b.timestamp - a.timestamp)
    .slice(0, RECENT)
    .map(describe);

  const finished = recentJobs.filter((j) => j.totalMs !== null);
  const compileTimes = finished.map((j) => j.compileMs).filter((n): n is number => n !== null);
  const totals = finished.map((j) => j.totalMs!);

  const cacheCounts = new Map((await metrics.cacheEvents.get()).values.map((v) => [String(v.labels.event), v.value]));
  const hits = cacheCounts.get('hit') ?? 0;
  const misses = cacheCounts.get('miss') ?? 0;

  return {
    generatedAt: new Date(now).toISOString(),
    queue: {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
      finishedLast5m,
      perMinute: Math.round((finishedLast5m / 5) * 10) / 10,
    },
    workers: workers.map((w) => ({ ...w, seenAgoMs: Math.max(0, now - w.seenMs) })),
    latency: {
      samples: totals.length,
      compileP50Ms: percentile(compileTimes, 0.5),
      compileP90Ms: percentile(compileTimes, 0.9),
      totalP50Ms: percentile(totals, 0.5),
      totalP90Ms: percentile(totals, 0.9),
      totalMaxMs: totals.length ? Math.max(...totals) : null,
    },
    cache: { hits, misses, hitRatio: hits + misses > 0 ? hits / (hits + misses) : null, entries: cache.entries().length, bytes: cache.totalBytes() },
    kernels: registry.list(),
    recentJobs,
  };
}

/** Written by a worker, maybe on another host whose data dir this node does not know. */
const scrubFailure = hostPathScrub({});

function describe(job: CompileJob): RecentJob {
  const result = job.returnvalue as CompileJob['returnvalue'] | null | undefined;
  const finished = Boolean(job.finishedOn);
  let outcome: RecentJob['outcome'] = 'pending';
  if (job.failedReason && finished && !result) outcome = 'failed';
  else if (result) outcome = result.ok ? 'ok' : 'compile-error';
  return {
    id: job.id ?? '',
    name: job.data.name,
    tenant: job.data.tenant ?? null,
    requestId: job.data.requestId ?? null,
    state: outcome === 'pending' ? (job.processedOn ? 'active' : 'waiting') : 'finished',
    outcome,
    submittedAt: new Date(job.timestamp).toISOString(),
    totalMs: job.finishedOn ? job.finishedOn - job.timestamp : null,
    compileMs: result?.ok ? result.compileMs : null,
    processedBy: job.processedBy ?? null,
    attempts: job.attemptsMade,
    cflags: job.data.cflags,
    diagnostics: result && !result.ok ? result.diagnostics : null,
    failedReason: outcome === 'failed' ? scrubFailure(job.failedReason) : null,
  };
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
