/**
 * The compile flow of the API: validated request → kernel set → cache key → cache hit, or a
 * remembered failure, or the shared job for that key → wait → store the object → answer.
 */
import { LbcError, cacheKey as computeCacheKey, isLbcError, jobIdFor, type CompileAccepted, type CompileRequest, type CompileResult, type HeaderInfo, type JobStatus, type KernelInfo } from '@lbc/contract';
import { addJobReader, failedJobError, stageMark, hostPathScrub, isJobReader, kernelSetFailure, scrubStrings, type ArtifactCache, type CompileJobResult, type CompileProducer, type HostPathScrub, type KernelRegistry, type FarmBlobs, type LbcConfig, type RedisOwner, type SharedArtifacts } from '@lbc/core';
import type { ApiMetrics } from '../metrics.ts';
import { validateCompileRequest, type SourceScanner, type ValidatedCompile } from './validate-request.ts';
import { chooseHeader, type HeaderChoice } from './header-choice.ts';
import { assertWorkersCanCompile } from './worker-check.ts';

export interface CompileServiceDeps {
  config: LbcConfig;
  cache: ArtifactCache;
  registry: KernelRegistry;
  producer: CompileProducer;
  /** The process's Redis: job readers, kernel-set failures, the worker registry. */
  redis: RedisOwner;
  metrics: ApiMetrics;
  /** Compile image id + clang version: part of every cache key. */
  toolchain: string;
  lbcHeaderSha256: string;
  scanSource: SourceScanner;
  /** Per-tenant queued-job bound: throws LBC_ERR_TENANT_QUEUE_FULL (auth/tenant-job-bound.ts). */
  admitJob?: (tenant: string, jobId: string) => Promise<void>;
  /** Which object a cache key produced, as other API nodes recorded it (a reference in Redis). */
  shared?: SharedArtifacts;
  /** Where workers publish objects by hash, and every node finds them (store/farm-blobs.ts). */
  blobs: FarmBlobs;
}

/** Who asked: carried into the job (request id, tenant) and used for the tenant's queued-job bound. */
export interface CompileContext {
  requestId?: string;
  tenant?: string;
  /** Count the job against the tenant's bound (token holders; anonymous loopback clients are not bounded). */
  bounded?: boolean;
  /** Set on the second try of a compile whose finished job's object was lost. */
  retriedLostObject?: boolean;
}

export type CompileAnswer = { status: 200; body: CompileResult } | { status: 202; body: CompileAccepted };

/** When the client does not say how long it may wait. */
const DEFAULT_WAIT_MS = 30_000;

export const artifactUrl = (sha256: string) => `/v1/artifacts/${sha256}`;
export const jobUrl = (jobId: string) => `/v1/jobs/${jobId}`;
export const kernelBtfUrl = (btfSha256: string) => `/v1/kernels/${btfSha256}/btf`;
/** The artifact-cache key of an object's minimized BTF. */
const minBtfKey = (key: string) => `${key}.min-btf`;

export class CompileService {
  /** One settle per cache key at a time: many waiters of one job store and count it once. */
  private readonly settling = new Map<string, Promise<CompileResult>>();
  private readonly draining = new AbortController();
  /** A job's failure was written by a worker, maybe on another host: answered without host paths. */
  private readonly scrub: HostPathScrub;

  constructor(private readonly deps: CompileServiceDeps) {
    this.scrub = hostPathScrub({ [deps.config.dataDir]: '<data>' });
  }

  /**
   * The header first (header-choice.ts): a CO-RE program compiles against its arch's newest header,
   * one object for every kernel of the arch. One that does not compile there (it names a field a
   * newer kernel renamed) compiles against its target's own header, as every program did before.
   */
  async compile(req: CompileRequest, context: CompileContext = {}): Promise<CompileAnswer> {
    const { config, registry } = this.deps;
    const input = validateCompileRequest(req, config.limits, this.deps.scanSource);
    const kernel = registry.resolve(req.target);
    const choice = this.headerChoice(input, req);
    if (choice.mode === 'kernel') return this.compileAgainst(req, input, kernel, { ...kernel, choice }, context);
    const newest = registry.coreHeader(kernel);
    const core = { ...newest, choice };
    if (newest.btfSha256 === kernel.btfSha256 || req.header === 'core') return this.compileAgainst(req, input, kernel, core, context);
    try {
      return await this.compileAgainst(req, input, kernel, core, context);
    } catch (err) {
      // A header whose kernel set cannot be built must not stop every CO-RE compile of its arch.
      if (isLbcError(err, 'LBC_ERR_KERNEL_SET_FAILED')) {
        return this.compileAgainst(req, input, kernel, { ...kernel, choice: { mode: 'kernel', reason: `the newest ${newest.arch} header (${newest.release}) could not be built: ${err.message}` } }, context);
      }
      if (!isLbcError(err, 'LBC_ERR_COMPILE')) throw err;
      const reason = `it does not compile against the newest ${newest.arch} header (${newest.release}): ${firstErrorLine(String(err.details?.diagnostics ?? err.message))}`;
      return this.compileAgainst(req, input, kernel, { ...kernel, choice: { mode: 'kernel', reason } }, context);
    }
  }

  /** CO-RE once per arch, or the target's own header (header-choice.ts; LBC_CORE_HEADER=off: always its own). */
  headerChoice(input: ValidatedCompile, req: Pick<CompileRequest, 'header' | 'minBtf'>): HeaderChoice {
    if (this.deps.config.coreHeader === 'off' && req.header !== 'core') {
      return { mode: 'kernel', reason: 'the service compiles every program against its target kernel (LBC_CORE_HEADER=off)' };
    }
    return chooseHeader({ ...input, header: req.header, minBtf: req.minBtf });
  }

  private async compileAgainst(req: CompileRequest, input: ValidatedCompile, kernel: KernelInfo, header: ChosenHeader, context: CompileContext): Promise<CompileAnswer> {
    const { config, cache, registry, producer, metrics, redis } = this.deps;
    const key = this.cacheKeyFor(input, header, context.tenant, req.minBtf);
    const hit = cache.lookup(key);
    if (hit) return { status: 200, body: this.resultOf(key, hit.entry, kernel, header, true, req.minBtf ? await this.minBtfOf(key) : undefined) };
    stageMark('api.missed');
    // Every check before queueing is one Redis round trip or a look at the blob store, and none
    // depends on another: asked at once, then read in the order they were always asked in (the
    // first that answers or refuses wins, as when they ran one after another).
    const [elsewhere, failure, unbuildable, workers, btfShared, looked] = await Promise.allSettled([
      this.fromOtherNodes(key),
      producer.recentFailure(key),
      // A kernel whose set could not be built fails again the same way: say so without a job.
      redis.guard(kernelSetFailure(redis.command, header.btfSha256, this.deps.toolchain), 'reading kernel-set failures'),
      assertWorkersCanCompile(redis, this.deps.toolchain),
      registry.ensureShared(header.btfSha256),
      // What queueing reads first (the key's job, the waiting count): read now, used below.
      producer.lookupJob(key),
    ]);
    // The node that compiled it published the minimized BTF before the object: seen the object, the
    // BTF is there too, unless bpftool failed there (then that node answered without one as well).
    const found = settled(elsewhere);
    if (found) return { status: 200, body: this.resultOf(key, found, kernel, header, true, req.minBtf ? await this.minBtfOf(key) : undefined) };
    const remembered = settled(failure);
    if (remembered) throw compileError(remembered);
    const unbuildableError = settled(unbuildable);
    if (unbuildableError) throw unbuildableError;
    settled(workers);
    settled(btfShared);
    const lookedUp = settled(looked);
    stageMark('api.checked');
    const jobId = jobIdFor(key);
    if (context.bounded && context.tenant) await this.deps.admitJob?.(context.tenant, jobId);
    // Before the job exists: whoever is told its id may read it, and no one else. Not waited for
    // before queueing: sent first on the connection the queue uses, so Redis records the reader
    // before it runs the add; a failure to record it still fails the request.
    const reader = redis.guard(addJobReader(redis.command, jobId, context.tenant ?? 'anonymous'), 'recording the job reader');
    reader.catch(() => {});
    const submitted = producer.submit({
      cacheKey: key,
      ...input,
      btfSha256: header.btfSha256,
      arch: header.arch,
      header: { mode: header.choice.mode, ...(header.choice.reason ? { reason: header.choice.reason } : {}), target: kernel.btfSha256 },
      toolchain: this.deps.toolchain,
      ...(context.requestId ? { requestId: context.requestId } : {}),
      ...(context.tenant ? { tenant: context.tenant } : {}),
      ...(req.minBtf ? { minBtf: true } : {}),
    }, lookedUp);
    submitted.catch(() => {});
    const [, job] = await Promise.all([reader, submitted]);
    const waitMs = Math.min(req.waitMs ?? DEFAULT_WAIT_MS, config.limits.maxWaitMs);
    metrics.compilesInFlight.inc();
    try {
      // A worker of this process has the object (not yet stored as the job's end by BullMQ): the
      // answer is got ready meanwhile, and sent once the job has ended in Redis as before.
      let early: { result: Extract<CompileJobResult, { ok: true }>; answer: Promise<CompileResult> } | undefined;
      const onReturned = (result: CompileJobResult) => {
        if (!result.ok || early) return;
        early = { result, answer: this.settle(key, result, kernel, header) };
        early.answer.catch(() => {});
      };
      const outcome = await producer.wait(job, waitMs, this.draining.signal, onReturned);
      if (outcome.done) {
        const ready = early && outcome.result.ok && outcome.result.sha256 === early.result.sha256 ? early.answer : this.settle(key, outcome.result, kernel, header);
        return { status: 200, body: await ready };
      }
    } catch (err) {
      // The finished job names an object no node holds any more (every holder lost it): compile it again.
      if (!(err instanceof ObjectLost) || context.retriedLostObject) throw err;
      await producer.guard(producer.queue.remove(jobIdFor(key)), 'removing the job of a lost object');
      return this.compileAgainst(req, input, kernel, header, { ...context, retriedLostObject: true });
    } finally {
      metrics.compilesInFlight.dec();
    }
    return { status: 202, body: { jobId, url: jobUrl(jobId), cacheKey: key, header: headerInfo(header) } };
  }

  /** On shutdown: requests waiting for a compile answer 202 now (the job goes on without them). */
  drain(): void {
    this.draining.abort();
  }

  /** The cache key of a compile: everything the object depends on (contract/cache-key.ts). */
  cacheKeyFor(input: ValidatedCompile, kernel: KernelInfo, tenant: string | undefined, minBtf?: boolean): string {
    return computeCacheKey({
      name: input.name,
      source: input.source,
      includes: input.includes,
      cflags: input.cflags,
      btfSha256: kernel.btfSha256,
      arch: kernel.arch,
      lbcHeaderSha256: this.deps.lbcHeaderSha256,
      toolchain: this.deps.toolchain,
      ...(minBtf ? { minBtf: true } : {}),
      // Tenants' caches kept apart: a hit never tells one tenant what another compiled.
      ...(this.deps.config.cacheScope === 'tenant' ? { scope: tenant ?? 'anonymous' } : {}),
    });
  }

  /** The object a compile cache key holds, from this node's cache or another node's; undefined on a miss. */
  async cachedObject(key: string): Promise<{ sha256: string; size: number } | undefined> {
    const hit = this.deps.cache.lookup(key);
    if (hit) return hit.entry;
    return (await this.fromOtherNodes(key)) ?? undefined;
  }

  /**
   * Makes a cached object findable by sha256 in the farm blob store, so that a worker on any host
   * (lbc verify's) takes it from there instead of compiling it again.
   */
  async shareObject(key: string): Promise<boolean> {
    const hit = this.deps.cache.lookup(key);
    if (!hit) return false;
    await this.deps.producer.guard(this.deps.blobs.put(hit.bytes), 'publishing the object');
    return true;
  }

  /** The compile identity of this node (for jobs that other queues make compile: lbc verify). */
  get toolchain(): string {
    return this.deps.toolchain;
  }

  /** reader: the tenant asking (null: an admin, who reads every job). Others' jobs do not exist for them. */
  async jobStatus(jobId: string, reader: string | null = null): Promise<JobStatus> {
    const { redis } = this.deps;
    if (reader !== null && !(await redis.guard(isJobReader(redis.command, jobId, reader), 'reading job readers'))) {
      throw new LbcError('LBC_ERR_JOB_NOT_FOUND', jobId);
    }
    const read = await this.deps.producer.jobWithState(jobId);
    if (!read) throw new LbcError('LBC_ERR_JOB_NOT_FOUND', jobId);
    const { job, state } = read;
    const progress = typeof job.progress === 'object' && job.progress ? (job.progress as JobStatus['progress']) : { stage: 'queued' as const, percent: 0 };
    const status: JobStatus = { id: jobId, state: publicState(state), progress };
    if (state === 'completed') {
      const built = this.deps.registry.get(job.data.btfSha256);
      const kernel = job.data.header ? this.deps.registry.get(job.data.header.target) : built;
      if (!kernel || !built) throw new LbcError('LBC_ERR_INTERNAL', `job ${jobId} names unknown kernel ${job.data.header?.target ?? job.data.btfSha256}`);
      const choice: HeaderChoice = job.data.header ? { mode: job.data.header.mode, ...(job.data.header.reason ? { reason: job.data.header.reason } : {}) } : { mode: 'kernel' };
      try {
        status.result = await this.settle(job.data.cacheKey, job.returnvalue, kernel, { ...built, choice });
      } catch (err) {
        if (!(err instanceof LbcError)) throw err;
        status.error = scrubStrings(err.toBody().error, this.scrub);
      }
      status.progress = { stage: 'done', percent: 100 };
    } else if (state === 'failed') {
      status.error = scrubStrings(failedJobError(job.failedReason, { attempts: job.attemptsMade }).toBody().error, this.scrub);
    }
    return status;
  }

  /** Turns a job result into an answer: stores the object (once) or remembers and throws the failure. */
  private settle(key: string, result: CompileJobResult, kernel: KernelInfo, header: ChosenHeader): Promise<CompileResult> {
    const running = this.settling.get(key);
    // Waiters of one job for different targets (a CO-RE job) each get their own kernel named.
    if (running) return running.then((r) => ({ ...r, kernel, btfUrl: kernelBtfUrl(kernel.btfSha256), header: headerInfo(header) }));
    const work = this.settleOnce(key, result, kernel, header).finally(() => this.settling.delete(key));
    this.settling.set(key, work);
    return work;
  }

  private async settleOnce(key: string, result: CompileJobResult, kernel: KernelInfo, header: ChosenHeader): Promise<CompileResult> {
    if (!result.ok) {
      this.deps.metrics.compileResults.inc({ outcome: 'error' });
      await this.deps.producer.rememberFailure(key, result);
      throw compileError(result);
    }
    const stored = this.deps.cache.lookup(key);
    if (stored && stored.entry.sha256 === result.sha256) return this.resultOf(key, stored.entry, kernel, header, false, await this.storeMinBtf(key, result));
    if (result.size > this.deps.config.limits.maxArtifactBytes) {
      throw new LbcError('LBC_ERR_COMPILE_LIMIT', `object of ${result.size} bytes exceeds ${this.deps.config.limits.maxArtifactBytes}`);
    }
    // The worker published the object by hash: from this node's disk, or fetched (verified) from where it is.
    const bytes = await this.blobOf(result.sha256);
    if (!bytes) throw new ObjectLost(result.sha256);
    const entry = this.deps.cache.store(key, bytes, result.sha256, result.warnings);
    this.deps.metrics.compileSeconds.observe(result.compileMs / 1000);
    this.deps.metrics.compileResults.inc({ outcome: 'ok' });
    const minBtf = await this.storeMinBtf(key, result);
    // Best effort: without it, other nodes still settle from the job result while Redis keeps it.
    // The minimized BTF first, so a node that sees the object finds its BTF too.
    if (minBtf) await this.publish(minBtfKey(key), minBtf.sha256, '');
    await this.publish(key, entry.sha256, entry.warnings);
    return this.resultOf(key, entry, kernel, header, false, minBtf);
  }

  /** References only: the bytes are in the blob store, under the hash. */
  private async publish(cacheKey: string, sha256: string, warnings: string): Promise<void> {
    await this.deps.shared?.publish({ cacheKey, sha256, warnings }).catch(() => {});
  }

  private blobOf(sha256: string): Promise<Buffer | null> {
    return this.deps.producer.guard(this.deps.blobs.get(sha256), 'reading the blob store');
  }

  /** The object's minimized BTF, stored beside it in the artifact cache (served like any artifact). */
  private async storeMinBtf(key: string, result: Extract<CompileJobResult, { ok: true }>): Promise<{ sha256: string; size: number } | undefined> {
    const existing = this.deps.cache.lookup(minBtfKey(key));
    if (existing || !result.minBtf) return existing?.entry;
    const bytes = await this.blobOf(result.minBtf.sha256);
    // Lost with its holder: the object is still served; the client falls back to the kernel's whole BTF.
    return bytes ? this.deps.cache.store(minBtfKey(key), bytes, result.minBtf.sha256, '') : undefined;
  }

  /**
   * The minimized BTF of a cached object: from this node's cache, else from the node that compiled
   * it. Without Redis the object is still served: the client falls back to the kernel's whole BTF.
   */
  private async minBtfOf(key: string): Promise<{ sha256: string; size: number } | undefined> {
    return this.deps.cache.lookup(minBtfKey(key))?.entry ?? (await this.fromOtherNodes(minBtfKey(key)).catch(() => undefined));
  }

  /** A miss here may be a hit on another API node: its reference from Redis, the bytes by hash, into this cache. */
  private async fromOtherNodes(key: string) {
    const shared = this.deps.shared;
    if (!shared?.enabled) return undefined;
    const found = await this.deps.producer.guard(shared.byCacheKey(key), 'reading shared artifacts');
    const bytes = found ? await this.blobOf(found.sha256) : null;
    return found && bytes ? this.deps.cache.store(key, bytes, found.sha256, found.warnings) : undefined;
  }

  private resultOf(
    key: string,
    entry: { sha256: string; size: number; warnings: string },
    kernel: KernelInfo,
    header: ChosenHeader,
    cached: boolean,
    minBtf?: { sha256: string; size: number },
  ): CompileResult {
    return {
      artifact: { sha256: entry.sha256, size: entry.size, url: artifactUrl(entry.sha256) },
      cacheKey: key,
      cached,
      warnings: entry.warnings,
      kernel,
      header: headerInfo(header),
      // For targets without their own BTF: libbpf's btf_custom_path must be the kernel set's BTF.
      btfUrl: kernelBtfUrl(kernel.btfSha256),
      ...(minBtf ? { minBtf: { sha256: minBtf.sha256, size: minBtf.size, url: artifactUrl(minBtf.sha256) } } : {}),
    };
  }
}

/** A settled check's value, or its error thrown (checks asked at once, read in order). */
function settled<T>(outcome: PromiseSettledResult<T>): T {
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

/** A kernel set whose header a compile uses, and why that one. */
type ChosenHeader = KernelInfo & { choice: HeaderChoice };

function headerInfo(header: ChosenHeader): HeaderInfo {
  return { btfSha256: header.btfSha256, release: header.release, arch: header.arch, mode: header.choice.mode, ...(header.choice.reason ? { reason: header.choice.reason } : {}) };
}

/** BullMQ's finer states (prioritized, waiting-children) are all "waiting" to a client. */
function publicState(state: string): JobStatus['state'] {
  const known: JobStatus['state'][] = ['waiting', 'active', 'completed', 'failed', 'delayed', 'unknown'];
  return known.includes(state as JobStatus['state']) ? (state as JobStatus['state']) : 'waiting';
}

function firstErrorLine(diagnostics: string): string {
  const lines = diagnostics.split('\n');
  return (lines.find((l) => /\berror\b/.test(l)) ?? lines[0] ?? '').trim();
}

/** A finished job whose object no node holds any more (and S3 has not). */
class ObjectLost extends LbcError {
  constructor(sha256: string) {
    super('LBC_ERR_ARTIFACT_NOT_FOUND', `object ${sha256} is in no node's blob store`);
  }
}

function compileError(failure: Extract<CompileJobResult, { ok: false }>): LbcError {
  // The first error line makes the message useful on its own; all diagnostics are in details.
  return new LbcError(failure.code, firstErrorLine(failure.diagnostics) || undefined, { diagnostics: failure.diagnostics });
}
