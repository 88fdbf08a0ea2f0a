import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_LIMITS,
  LbcError,
  SHA256_PATTERN,
  isLbcError,
  compileSizeError,
  type ArtifactRef,
  type CompileAccepted,
  type CompileRequest,
  type CompileResult,
  type JobProgress,
  type JobStatus,
  type KernelInfo,
  type KernelUploadQuery,
  type Limits,
  type VerifyAccepted,
  type VerifyJobStatus,
  type VerifyProgress,
  type VerifyRequest,
  type VerifyResult,
} from '@lbc/contract';
import { HttpTransport, errorFromResponse, type HttpOptions } from './http.ts';
import { resolveServer } from './server-url.ts';
import { retrying } from './retry.ts';

export interface ServiceClientOptions extends HttpOptions {
  /** Base URL; see resolveServer (option → LBC_SERVER → http://127.0.0.1:8080). */
  server?: string;
  /** The transport to ask through, instead of one made for `server` (the CLI snapshot's warm-up answers from memory). */
  transport?: HttpTransport;
}

export interface CompileOptions {
  /** Called on every job state change while a 202'd compile is polled. */
  onProgress?: (progress: JobProgress, state: JobStatus['state']) => void;
  /** Bound on the whole compile including queueing; LBC_ERR_SERVER_UNREACHABLE (timeout) past it. */
  timeoutMs?: number;
  /** Set on the second request after a CO-RE job failed (compile() asks once more, never twice). */
  coreRetried?: boolean;
  /**
   * Ask for the object in the answer itself (`?include=object`): a cache hit is then one round trip.
   * Take it with compiledObject(), which verifies it, or downloads it when the answer has none.
   */
  includeObject?: boolean;
}

const DEFAULT_WAIT_MS = 20_000;
const DEFAULT_COMPILE_TIMEOUT_MS = 180_000;
/** Booting kernels under emulation: minutes for a matrix on a busy farm. */
const DEFAULT_VERIFY_TIMEOUT_MS = 600_000;
/** What a download may weigh: the service's own limit (GET /v1/limits), never more than this. */
const DOWNLOAD_CEILING_BYTES = 512 * 1024 * 1024;
/** A service that does not tell its limits gets a few times the defaults. */
const UNKNOWN_LIMIT_FACTOR = 4;

/** What a download is, for its size bound: an object (maxArtifactBytes) or BTF (maxBtfBytes). */
export type DownloadKind = 'object' | 'btf';

/** The client's view of the compile service's /v1 API. */
export class ServiceClient {
  readonly server: string;
  private readonly http: HttpTransport;
  private serviceLimits?: Promise<Limits>;
  /** Sizes the service announced in its compile results, by sha256: the exact bound of their download. */
  private readonly announcedSizes = new Map<string, number>();

  constructor(options: ServiceClientOptions = {}) {
    this.server = resolveServer(options.server);
    this.http = options.transport ?? new HttpTransport(this.server, options);
  }

  /** POST /v1/compile; a 202 is followed by polling the job until it finishes. */
  async compile(req: CompileRequest, options: CompileOptions = {}): Promise<CompileResult> {
    await this.assertWithinLimits(req);
    const waitMs = req.waitMs ?? DEFAULT_WAIT_MS;
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_COMPILE_TIMEOUT_MS);
    // A compile is idempotent (the service keys its job by the request): a busy or recovering
    // service is asked again until the deadline; a dead one fails at once.
    const { status, data } = await retrying(
      () =>
        this.http.json<CompileResult | CompileAccepted>(
          { method: 'POST', path: options.includeObject ? '/v1/compile?include=object' : '/v1/compile', json: { ...req, waitMs }, timeoutMs: waitMs + 30_000 },
          [200, 202],
        ),
      { deadline, unreachable: false },
    );
    if (status === 200) return this.checkResult(data as CompileResult);
    const accepted = data as CompileAccepted;
    try {
      return this.checkResult(await this.waitForJob(accepted.jobId, deadline, options.onProgress));
    } catch (err) {
      // A CO-RE compile that failed is asked for again: the service then compiles against the target's own header.
      // Once: a second failure is the program's own.
      if (!isLbcError(err, 'LBC_ERR_COMPILE') || accepted.header?.mode !== 'core' || req.header === 'core' || options.coreRetried) throw err;
      return this.compile(req, { ...options, coreRetried: true, timeoutMs: Math.max(1, deadline - Date.now()) });
    }
  }

  /** A result names its object by sha256 (and its minimized BTF, if any): without one nothing can be verified, so nothing is used. */
  private checkResult(result: CompileResult): CompileResult {
    const refs: [string, Partial<ArtifactRef> | undefined][] = [['artifact', result?.artifact]];
    if (result?.minBtf) refs.push(['minBtf', result.minBtf]);
    for (const [field, ref] of refs) {
      if (!SHA256_PATTERN.test(String(ref?.sha256)) || typeof ref?.url !== 'string') {
        throw new LbcError('LBC_ERR_ARTIFACT_INTEGRITY', `the compile result from ${this.server} has no valid ${field}.sha256 (${JSON.stringify(ref?.sha256)}) or url`, { field });
      }
      const size = Number(ref?.size);
      if (Number.isSafeInteger(size) && size > 0) this.announcedSizes.set(String(ref?.sha256), size);
    }
    return result;
  }

  /** GET /v1/limits, asked once per client. */
  limits(): Promise<Limits> {
    this.serviceLimits ??= this.http.json<Limits>({ method: 'GET', path: '/v1/limits', maxBytes: 64 * 1024 }).then(
      ({ data }) => data,
      (err: unknown) => {
        this.serviceLimits = undefined;
        throw err;
      },
    );
    return this.serviceLimits;
  }

  /**
   * A request over the service's size limits is refused here, naming the limit, rather than sent:
   * the service answers 413 while the client is still sending. Within the default limits nothing is
   * asked; beyond them the service's own limits decide (an operator may have raised them).
   */
  private async assertWithinLimits(req: CompileRequest): Promise<void> {
    if (!compileSizeError(req, DEFAULT_LIMITS)) return;
    const oversize = compileSizeError(req, await this.limits());
    if (oversize) throw oversize;
  }

  /**
   * POST /v1/verify: every kernel's verdict (booted in the service's lab); a 202 is followed by
   * polling the job, with its progress (kernels done of total), until it finishes or the timeout.
   */
  async verify(req: VerifyRequest, options: { onProgress?: (progress: VerifyProgress, state: VerifyJobStatus['state']) => void; timeoutMs?: number } = {}): Promise<VerifyResult> {
    await this.assertWithinLimits({ ...req, target: { release: '' } });
    const waitMs = req.waitMs ?? DEFAULT_WAIT_MS;
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS);
    const { status, data } = await retrying(
      () => this.http.json<VerifyResult | VerifyAccepted>({ method: 'POST', path: '/v1/verify', json: { ...req, waitMs }, timeoutMs: waitMs + 30_000 }, [200, 202]),
      { deadline, unreachable: false },
    );
    if (status === 200) return data as VerifyResult;
    const id = (data as VerifyAccepted).jobId;
    let delay = 100;
    let last = '';
    for (;;) {
      const job = await retrying(() => this.verifyJob(id), { deadline, unreachable: true });
      const seen = `${job.state}/${job.progress?.stage}/${job.progress?.done}`;
      if (seen !== last) {
        last = seen;
        options.onProgress?.(job.progress, job.state);
      }
      if (job.state === 'completed' && job.result) return job.result;
      if (job.error) throw LbcError.fromBody({ error: job.error });
      if (job.state === 'failed') throw new LbcError('LBC_ERR_INTERNAL', `verify job ${id} failed without an error body`);
      if (Date.now() > deadline) {
        throw new LbcError('LBC_ERR_SERVER_UNREACHABLE', `${this.server}: verify job ${id} still ${job.state} at the client's timeout`, { server: this.server, cause: 'timeout' });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 1000);
    }
  }

  async verifyJob(id: string): Promise<VerifyJobStatus> {
    const { data } = await this.http.json<VerifyJobStatus>({ method: 'GET', path: `/v1/verify/${encodeURIComponent(id)}` });
    return data;
  }

  async job(id: string): Promise<JobStatus> {
    const { data } = await this.http.json<JobStatus>({ method: 'GET', path: `/v1/jobs/${encodeURIComponent(id)}` });
    return data;
  }

  private async waitForJob(id: string, deadline: number, onProgress?: CompileOptions['onProgress']): Promise<CompileResult> {
    let delay = 50;
    let last = '';
    for (;;) {
      // The job outlives a restart of the API or Redis: poll through it until the deadline.
      const job = await retrying(() => this.job(id), { deadline, unreachable: true });
      const seen = `${job.state}/${job.progress?.stage}/${job.progress?.percent}`;
      if (seen !== last) {
        last = seen;
        onProgress?.(job.progress ?? { stage: 'queued', percent: 0 }, job.state);
      }
      if (job.state === 'completed' && job.result) return job.result;
      if (job.state === 'failed' || job.error) {
        if (job.error) throw LbcError.fromBody({ error: job.error });
        throw new LbcError('LBC_ERR_INTERNAL', `job ${id} failed without an error body`);
      }
      if (Date.now() > deadline) {
        throw new LbcError('LBC_ERR_SERVER_UNREACHABLE', `${this.server}: compile job ${id} still ${job.state} at the client's timeout`, {
          server: this.server,
          cause: 'timeout',
        });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 500);
    }
  }

  /**
   * The object of a compile result: the bytes the answer carried (CompileOptions.includeObject),
   * checked against artifact.sha256 as a download is, else downloaded from artifact.url.
   */
  async compiledObject(result: CompileResult): Promise<Buffer> {
    const { artifact, objectBase64 } = result;
    if (typeof objectBase64 !== 'string') return this.fetchVerified(artifact.url, artifact.sha256, 'object');
    return this.verified(Buffer.from(objectBase64, 'base64'), artifact.sha256, `the object in the compile result from ${this.server}`);
  }

  /** GET /v1/artifacts/:sha256; the bytes are checked against the hash before anyone uses them. */
  async fetchArtifact(sha256: string): Promise<Buffer> {
    return this.fetchVerified(`/v1/artifacts/${sha256}`, sha256, 'object');
  }

  /**
   * Fetches a relative URL the service handed out (artifact url, btfUrl): at most the size its
   * compile result announced, else the service's limit for its kind, and only bytes that hash to
   * `sha256` (LBC_ERR_ARTIFACT_INTEGRITY otherwise). An announced size saves asking the limits: a
   * cache hit is then two round trips, the compile and the object.
   */
  async fetchVerified(url: string, sha256: string, kind: DownloadKind = 'object'): Promise<Buffer> {
    if (!SHA256_PATTERN.test(String(sha256))) {
      throw new LbcError('LBC_ERR_ARTIFACT_INTEGRITY', `${url} from ${this.server} comes without a valid sha256 (${JSON.stringify(sha256)})`, { url });
    }
    const announced = this.announcedSizes.get(sha256);
    const maxBytes = announced !== undefined ? Math.min(announced, DOWNLOAD_CEILING_BYTES) : await this.downloadLimit(kind);
    const res = await this.http.request({ method: 'GET', path: this.relative(url), headers: { accept: 'application/octet-stream' }, maxBytes });
    if (res.status !== 200) throw errorFromResponse(res, this.server);
    return this.verified(res.body, sha256, `${url} from ${this.server}`);
  }

  /** Bytes that hash to `sha256`, else LBC_ERR_ARTIFACT_INTEGRITY naming what they were. */
  private verified(bytes: Buffer, sha256: string, what: string): Buffer {
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== sha256) throw new LbcError('LBC_ERR_ARTIFACT_INTEGRITY', `${what} has sha256 ${got}, expected ${sha256}`, { expected: sha256, got });
    return bytes;
  }

  /** The service's own bound for a kind of download (asked once per client), capped by DOWNLOAD_CEILING_BYTES. */
  private async downloadLimit(kind: DownloadKind): Promise<number> {
    const limits = await this.limits().catch(() => ({ maxArtifactBytes: UNKNOWN_LIMIT_FACTOR * DEFAULT_LIMITS.maxArtifactBytes, maxBtfBytes: UNKNOWN_LIMIT_FACTOR * DEFAULT_LIMITS.maxBtfBytes }));
    const own = kind === 'object' ? limits.maxArtifactBytes : limits.maxBtfBytes;
    return Number.isSafeInteger(own) && own > 0 ? Math.min(own, DOWNLOAD_CEILING_BYTES) : DOWNLOAD_CEILING_BYTES;
  }

  /** PUT /v1/kernels/:sha256 with the raw BTF, gzip-compressed on the wire (vmlinux BTF shrinks ~4×). */
  async uploadKernel(sha256: string, btf: Buffer, query: KernelUploadQuery): Promise<KernelInfo> {
    const params = new URLSearchParams({ release: query.release, arch: query.arch });
    if (query.distro) params.set('distro', query.distro);
    // zlib only here: every other command (a compile on a cache hit) starts without it.
    const { gzipSync } = await import('node:zlib');
    const { data } = await this.http.json<KernelInfo>(
      {
        method: 'PUT',
        path: `/v1/kernels/${sha256}?${params}`,
        headers: { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' },
        body: gzipSync(btf),
        timeoutMs: 120_000,
      },
      [200, 201],
    );
    return data;
  }

  async listKernels(): Promise<KernelInfo[]> {
    const { data } = await this.http.json<KernelInfo[] | { kernels: KernelInfo[] }>({ method: 'GET', path: '/v1/kernels' });
    return Array.isArray(data) ? data : data.kernels;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /** Service URLs are relative to its root; an absolute one must point at the same service. */
  private relative(url: string): string {
    if (!/^[a-z]+:\/\//i.test(url)) return url.startsWith('/') ? url : `/${url}`;
    const u = new URL(url);
    return u.pathname + u.search;
  }
}
