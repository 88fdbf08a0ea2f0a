/**
 * One kernel package through ingest-package.sh in a single-use container with the same hardening
 * as compiles (no network, read-only root, uid 65534, no capabilities, limits), but with room for
 * a kernel: the package mounted read-only, a scratch directory for the unpacked vmlinux, more CPU
 * time, memory and file size. The script's stdout lines are read as they come, for progress.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { ERRORS, LbcError, type ErrorCode, type IngestStage } from '@lbc/contract';
import { attachOutput } from '../sandbox/attach-output.ts';
import { hardenedContainerOptions, type SandboxLimits } from '../sandbox/hardening.ts';
import { createJobDir, removeJobDir, type JobDir } from '../sandbox/job-dir.ts';
import { ownerLabels } from '../sandbox/warm-pool.ts';
import { watchScratch } from './scratch-watch.ts';

/** ingest-package.sh and nothing else, mounted read-only at /ingest. */
const TOOL_DIR = join(dirname(fileURLToPath(import.meta.url)), 'sandbox');

export const DEFAULT_INGEST_LIMITS: SandboxLimits = {
  cpuSeconds: 1800,
  // A debug vmlinux is hundreds of MB; nothing else is unpacked.
  maxFileBytes: 4 * 1024 ** 3,
  // pahole over a whole kernel's DWARF.
  memoryBytes: 4 * 1024 ** 3,
  pids: 64,
};

export interface IngestRunOptions {
  docker: Dockerode;
  image: string;
  jobsDir: string;
  limits: SandboxLimits;
  timeoutMs: number;
  packageFile: string;
  maxUnpackedBytes: number;
  onProgress?: (stage: IngestStage, percent: number) => void;
}

export interface IngestRunResult {
  /** `@meta` facts: format, name, version, release, arch, vendor, maintainer, path, btf-source… */
  facts: Record<string, string>;
  job: JobDir;
  ms: number;
}

const STAGES = new Set<string>(['detecting', 'metadata', 'unpacking', 'converting', 'encoding', 'done']);
const STDERR_CAP = 64 * 1024;

/** Splits a byte stream into lines and hands each to `onLine`. */
function lineReader(onLine: (line: string) => void): PassThrough {
  const sink = new PassThrough();
  let pending = '';
  sink.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    // A line with no end: the script never writes those, so anything this long is garbage.
    if (pending.length > 4096) pending = '';
  });
  return sink;
}

/**
 * Runs the ingestion; resolves with the facts and the job dir holding out/vmlinux.btf (the caller
 * removes it), or throws the script's LBC_ERR_INGEST_* error.
 */
export async function runIngestContainer(opts: IngestRunOptions): Promise<IngestRunResult> {
  const job = await createJobDir(opts.jobsDir);
  const scratch = join(job.root, 'scratch');
  await fs.mkdir(scratch, { mode: 0o700 });
  if (process.getuid?.() === 0) await fs.chown(scratch, 65534, 65534);
  else await fs.chmod(scratch, 0o777);

  const facts: Record<string, string> = {};
  let error: { code: string; message: string } | undefined;
  let finished = false;
  let stderr = '';
  const stdout = lineReader((line) => {
    const [tag, a = '', ...rest] = line.split(' ');
    if (tag === '@progress' && STAGES.has(rest[0] ?? '')) opts.onProgress?.(rest[0] as IngestStage, Number(a) || 0);
    else if (tag === '@meta' && /^[a-z-]{1,32}$/.test(a) && Object.keys(facts).length < 64) facts[a] = rest.join(' ');
    else if (tag === '@error') error ??= { code: a, message: rest.join(' ').slice(0, 2000) };
    else if (tag === '@done') finished = true;
  });
  const errSink = new PassThrough();
  errSink.on('data', (chunk: Buffer) => {
    if (stderr.length < STDERR_CAP) stderr += chunk.toString('utf8').slice(0, STDERR_CAP - stderr.length);
  });

  let container: Dockerode.Container | undefined;
  const started = performance.now();
  try {
    try {
      container = await opts.docker.createContainer(
        hardenedContainerOptions({
          image: opts.image,
          cmd: ['bash', '/ingest/ingest-package.sh', '/in/package', '/job/out', '/job/scratch', String(opts.maxUnpackedBytes)],
          workingDir: '/job',
          mounts: [
            { host: opts.packageFile, container: '/in/package', writable: false },
            { host: TOOL_DIR, container: '/ingest', writable: false },
            { host: job.out, container: '/job/out', writable: true },
            { host: scratch, container: '/job/scratch', writable: true },
          ],
          labels: ownerLabels('ingest', job.root),
          limits: opts.limits,
        }),
      );
      const { stream, ended } = await attachOutput(opts.docker, container, stdout, errSink);
      await container.start();
      stream.end();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        container?.kill().catch(() => {});
      }, opts.timeoutMs);
      const scratchWatch = watchScratch(scratch, opts.maxUnpackedBytes, () => void container?.kill().catch(() => {}));
      const { StatusCode: exitCode } = (await container.wait().finally(() => {
        clearTimeout(timer);
        scratchWatch.stop();
      })) as { StatusCode: number };
      await Promise.race([ended, new Promise((r) => setTimeout(r, 500))]);
      await new Promise((r) => setImmediate(r));
      if (timedOut) throw new LbcError('LBC_ERR_SANDBOX', `the ingestion ran over ${Math.round(opts.timeoutMs / 1000)} s and was stopped`);
      const overUnpacked = scratchWatch.exceeded ?? (await scratchWatch.check());
      if (overUnpacked) throw new LbcError('LBC_ERR_INGEST_TOO_LARGE', overUnpacked);
      if (error) {
        const code = (error.code in ERRORS && error.code.startsWith('LBC_ERR_INGEST_') ? error.code : 'LBC_ERR_INGEST_CORRUPT') as ErrorCode;
        throw new LbcError(code, error.message);
      }
      if (exitCode === 137) {
        const info = await container.inspect().catch(() => undefined);
        if (info?.State?.OOMKilled) throw new LbcError('LBC_ERR_INGEST_TOO_LARGE', `the ingestion needed more than ${opts.limits.memoryBytes} bytes of memory`);
      }
      if (exitCode === 153 || /File size limit exceeded/.test(stderr)) {
        throw new LbcError('LBC_ERR_INGEST_TOO_LARGE', `a file unpacked from the package is over ${opts.limits.maxFileBytes} bytes`);
      }
      if (exitCode !== 0 || !finished) {
        throw new LbcError('LBC_ERR_INGEST_CORRUPT', `the ingest tool exited with status ${exitCode}: ${stderr.trim().slice(-500) || 'no output'}`);
      }
    } catch (err) {
      if (err instanceof LbcError) throw err;
      throw new LbcError('LBC_ERR_SANDBOX', `running the ingest container: ${(err as Error).message}`, undefined, { cause: err });
    }
    return { facts, job, ms: performance.now() - started };
  } catch (err) {
    await removeJobDir(job.root);
    throw err;
  } finally {
    if (container) await container.remove({ force: true }).catch(() => {});
    // The unpacked vmlinux can be hundreds of MB: gone as soon as the container is.
    await fs.rm(scratch, { recursive: true, force: true }).catch(() => {});
  }
}
