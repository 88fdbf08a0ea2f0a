/**
 * The verify flow of the API: validated request → bootable kernels → per kernel the compile cache
 * key (the object the farm would compile for it) → cached verdicts, answered at once when every
 * kernel has one → else the shared verify job for the request → wait → store the compiles and the
 * verdicts → answer. Workers keep no state: what they learn comes back in the job's result.
 */
import { CanonicalHash, LbcError, type KernelVerdict, type VerifyAccepted, type VerifyJobStatus, type VerifyProgress, type VerifyRequest, type VerifyResult } from '@lbc/contract';
import {
  addJobReader,
  failedJobError,
  hostPathScrub,
  isJobReader,
  liveWorkers,
  scrubStrings,
  type HostPathScrub,
  type KernelRegistry,
  type LbcConfig,
  type RedisOwner,
  type VerifyJobData,
  type VerifyJobResult,
  type VerifyKernelTask,
} from '@lbc/core';
import { verdictSetupHash, type VerdictCache } from './verdict-cache.ts';
import { type VerifyProducer } from './verify-producer.ts';
import type { CompileService } from '../compile/compile-service.ts';
import type { SourceScanner } from '../compile/validate-request.ts';
import { kernelRef, resolveVerifyKernels } from './resolve-kernels.ts';
import { validateVerifyRequest } from './validate-verify.ts';

export interface VerifyServiceDeps {
  config: LbcConfig;
  registry: KernelRegistry;
  compile: CompileService;
  producer: VerifyProducer;
  /** The process's Redis: job readers, the worker registry. */
  redis: RedisOwner;
  verdicts: VerdictCache;
  scanSource: SourceScanner;
  /** Per-tenant queued-job bound (shared with compiles). */
  admitJob?: (tenant: string, jobId: string) => Promise<void>;
}

export interface VerifyContext {
  requestId?: string;
  tenant?: string;
  bounded?: boolean;
}

export type VerifyAnswer = { status: 200; body: VerifyResult } | { status: 202; body: VerifyAccepted };

/** A verify boots kernels: longer than a compile by default, still bounded by limits.maxWaitMs. */
const DEFAULT_WAIT_MS = 60_000;

export const verifyJobUrl = (jobId: string) => `/v1/verify/${jobId}`;

export class VerifyService {
  private readonly draining = new AbortController();
  private readonly scrub: HostPathScrub;
  /** Jobs whose compiles and verdicts this node has stored (each once per process). */
  private readonly settled = new Set<string>();

  constructor(private readonly deps: VerifyServiceDeps) {
    this.scrub = hostPathScrub({ [deps.config.dataDir]: '<data>' });
  }

  async verify(req: VerifyRequest, context: VerifyContext = {}): Promise<VerifyAnswer> {
    const { config, registry, compile, producer, verdicts } = this.deps;
    const input = validateVerifyRequest(req, config.limits, this.deps.scanSource);
    const kernels = resolveVerifyKernels(req, registry);
    const setupSha256 = verdictSetupHash(req.setup, req.workload);
    const labVersion = await this.labVersion();

    const known: KernelVerdict[] = [];
    const tasks: VerifyKernelTask[] = [];
    /** The compile cache key each task's cached object is under (the own header's after a fallback). */
    const objectKeys = new Map<VerifyKernelTask, string>();
    for (const kernel of kernels) {
      // The header `lbc compile` would pick by default (a verify request names none): a CO-RE
      // program's object is its arch's, one for every kernel.
      const choice = compile.headerChoice(input, {});
      const header = choice.mode === 'core' ? registry.coreHeader(kernel) : kernel;
      const compileCacheKey = compile.cacheKeyFor(input, header, context.tenant);
      const own = header.btfSha256 === kernel.btfSha256 ? undefined : { btfSha256: kernel.btfSha256, compileCacheKey: compile.cacheKeyFor(input, kernel, context.tenant) };
      const ownObject = own && !(await compile.cachedObject(compileCacheKey)) ? await compile.cachedObject(own.compileCacheKey) : undefined;
      const objectKey = ownObject ? own!.compileCacheKey : compileCacheKey;
      const object = ownObject ?? (await compile.cachedObject(compileCacheKey));
      const hit = object && labVersion ? verdicts.get({ objectSha256: object.sha256, btfSha256: kernel.btfSha256, labVersion, setupSha256 }, kernelRef(kernel)) : null;
      if (hit) known.push(hit);
      else {
        await registry.ensureShared(header.btfSha256);
        if (own) await registry.ensureShared(own.btfSha256);
        await registry.shareBootImage(kernel.btfSha256);
        const task: VerifyKernelTask = { kernel: kernelRef(kernel), bootImage: kernel.bootImage!, compileCacheKey, header: { btfSha256: header.btfSha256, mode: choice.mode } };
        if (own) task.ownHeader = own;
        if (object) task.objectSha256 = object.sha256;
        tasks.push(task);
        objectKeys.set(task, objectKey);
      }
    }
    const order = kernels.map((k) => k.btfSha256);
    if (tasks.length === 0) return { status: 200, body: { ok: known.every((v) => v.status === 'passed'), verdicts: known, labVersion: labVersion! } };

    // The objects the API has: workers take them by sha256 instead of compiling again.
    for (const task of tasks) if (task.objectSha256 && !(await compile.shareObject(objectKeys.get(task)!))) delete task.objectSha256;
    const jobId = verifyJobId(tasks, known, setupSha256, labVersion);
    if (context.bounded && context.tenant) await this.deps.admitJob?.(context.tenant, jobId);
    await this.deps.redis.guard(addJobReader(this.deps.redis.command, jobId, context.tenant ?? 'anonymous'), 'recording the job reader');
    const data: VerifyJobData = {
      name: input.name,
      source: input.source,
      includes: input.includes,
      cflags: input.cflags,
      toolchain: compile.toolchain,
      kernels: tasks,
      known,
      order,
      ...(req.setup ? { setup: req.setup } : {}),
      ...(req.workload ? { workload: req.workload } : {}),
      ...(context.requestId ? { requestId: context.requestId } : {}),
      ...(context.tenant ? { tenant: context.tenant } : {}),
    };
    const job = await producer.submit(jobId, data);
    const waitMs = Math.min(req.waitMs ?? DEFAULT_WAIT_MS, config.limits.maxWaitMs);
    const outcome = await producer.wait(job, waitMs, this.draining.signal);
    if (outcome.done) return { status: 200, body: await this.settle(jobId, job.data, outcome.result) };
    return { status: 202, body: { jobId, url: verifyJobUrl(jobId) } };
  }

  drain(): void {
    this.draining.abort();
  }

  /** reader: the tenant asking (null: an admin). Other tenants' jobs do not exist for them. */
  async jobStatus(jobId: string, reader: string | null = null): Promise<VerifyJobStatus> {
    const { producer, redis } = this.deps;
    if (reader !== null && !(await redis.guard(isJobReader(redis.command, jobId, reader), 'reading job readers'))) {
      throw new LbcError('LBC_ERR_JOB_NOT_FOUND', jobId);
    }
    const read = await producer.jobWithState(jobId);
    if (!read) throw new LbcError('LBC_ERR_JOB_NOT_FOUND', jobId);
    const { job, state } = read;
    const total = job.data.order.length;
    const progress: VerifyProgress =
      typeof job.progress === 'object' && job.progress ? (job.progress as VerifyProgress) : { stage: 'queued', done: job.data.known.length, total, percent: 0 };
    const status: VerifyJobStatus = { id: jobId, state: publicState(state), progress };
    if (state === 'completed') {
      status.result = await this.settle(jobId, job.data, job.returnvalue);
      status.progress = { stage: 'done', done: total, total, percent: 100 };
    } else if (state === 'failed') {
      status.error = scrubStrings(failedJobError(job.failedReason, { attempts: job.attemptsMade }).toBody().error, this.scrub);
    }
    return status;
  }

  /** A finished job's answer: its compiles stored in the artifact cache and its verdicts in the verdict cache (once), then merged with the known ones. */
  private async settle(jobId: string, data: VerifyJobData, result: VerifyJobResult): Promise<VerifyResult> {
    if (!this.settled.has(jobId)) {
      const setupSha256 = verdictSetupHash(data.setup, data.workload);
      for (const verdict of result.verdicts) {
        // The compile job's object goes into this node's cache as any compile's would (best effort: it may be gone).
        if (verdict.compileJobId) await this.deps.compile.jobStatus(verdict.compileJobId, null).catch(() => undefined);
        if (verdict.objectSha256) {
          this.deps.verdicts.put({ objectSha256: verdict.objectSha256, btfSha256: verdict.kernel.btfSha256, labVersion: result.labVersion, setupSha256 }, verdict);
        }
      }
      // Bounded: a job settled twice only stores the same rows again.
      if (this.settled.size >= 10_000) this.settled.clear();
      this.settled.add(jobId);
    }
    const byKernel = new Map<string, KernelVerdict>();
    for (const v of data.known) byKernel.set(v.kernel.btfSha256, v);
    for (const { compileJobId: _job, ...v } of result.verdicts) byKernel.set(v.kernel.btfSha256, scrubStrings(v, this.scrub));
    const verdicts = data.order.map((sha) => byKernel.get(sha)).filter((v): v is KernelVerdict => v !== undefined);
    return { ok: verdicts.length === data.order.length && verdicts.every((v) => v.status === 'passed'), verdicts, labVersion: result.labVersion };
  }

  /**
   * The lab version live workers run guests with: a cached verdict counts only when it came from
   * that lab. Without a live verify worker, the newest verdicts known are none: the job waits for one.
   */
  private async labVersion(): Promise<string | undefined> {
    const workers = await this.deps.redis.guard(liveWorkers(this.deps.redis.command), 'reading the worker registry');
    const versions = [...new Set(workers.map((w) => w.labVersion).filter((v): v is string => typeof v === 'string' && v !== ''))].sort();
    // Workers of two lab versions during an upgrade: the newest decides (versions sort by their date prefix or number).
    return versions.at(-1);
  }
}

/** One job per request: the kernels' compiles, the verdicts already known, the setup and the lab. */
function verifyJobId(tasks: VerifyKernelTask[], known: KernelVerdict[], setupSha256: string, labVersion: string | undefined): string {
  const hash = new CanonicalHash('lbc-verify-job-v1')
    .list(tasks.map((t) => `${t.kernel.btfSha256}:${t.compileCacheKey}`))
    .list(known.map((v) => v.kernel.btfSha256))
    .field(setupSha256)
    .field(labVersion ?? '');
  return `verify-${hash.hex()}`;
}

function publicState(state: string): VerifyJobStatus['state'] {
  const known: VerifyJobStatus['state'][] = ['waiting', 'active', 'completed', 'failed', 'delayed', 'unknown'];
  return known.includes(state as VerifyJobStatus['state']) ? (state as VerifyJobStatus['state']) : 'waiting';
}

