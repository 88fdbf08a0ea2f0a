/**
 * lbc-admin ingest FILE...: kernel packages into the farm through its API (POST /v1/kernels/ingest),
 * one after another, with a progress bar for the upload and then the ingestion job. Files are
 * streamed, never read whole; --path sends server-side paths instead (LBC_INGEST_PATH_ROOT).
 */
import { createReadStream, promises as fs } from 'node:fs';
import { basename } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { ARCHES, LbcError, type ErrorBody, type IngestStatus } from '@lbc/contract';
import { mintRunToken } from './local-admin-token.ts';

interface IngestFlags {
  server: string;
  token?: string;
  release?: string;
  arch?: string;
  distro?: string;
  path?: boolean;
  json?: boolean;
  timeout: number;
}

/** Upload and ingestion as one bar: bytes sent are the first half, the job's percent the second. */
class ProgressView {
  private readonly bar?: cliProgress.SingleBar;

  constructor(private readonly name: string) {
    if (process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        { format: `{name} [{bar}] {percentage}% {stage}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, barsize: 30 },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(200, 0, { name, stage: 'uploading' });
    }
  }

  uploaded(fraction: number): void {
    this.bar?.update(Math.round(fraction * 100), { name: this.name, stage: 'uploading' });
  }

  job(stage: string, percent: number): void {
    this.bar?.update(100 + Math.round(percent), { name: this.name, stage });
  }

  stop(): void {
    this.bar?.stop();
  }
}

async function request(flags: IngestFlags, method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string> } = {}): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { ...init.headers, ...(flags.token ? { authorization: `Bearer ${flags.token}` } : {}) };
  let res: Response;
  try {
    res = await fetch(new URL(path, flags.server), { method, headers, body: init.body, duplex: 'half' } as RequestInit);
  } catch (err) {
    throw new LbcError('LBC_ERR_SERVER_UNREACHABLE', `${flags.server}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the error message
  }
  return { status: res.status, body };
}

function failure(status: number, body: unknown): LbcError {
  if (body && typeof body === 'object' && 'error' in body) return LbcError.fromBody(body as ErrorBody);
  return new LbcError('LBC_ERR_INTERNAL', `HTTP ${status}: ${String(body).slice(0, 300)}`);
}

async function submit(file: string, flags: IngestFlags, view: ProgressView): Promise<IngestStatus> {
  const hints = { ...(flags.release ? { release: flags.release } : {}), ...(flags.arch ? { arch: flags.arch } : {}), ...(flags.distro ? { distro: flags.distro } : {}) };
  if (flags.path) {
    return answer(await request(flags, 'POST', '/v1/kernels/ingest', { body: JSON.stringify({ path: file, ...hints }), headers: { 'content-type': 'application/json' } }));
  }
  const stat = await fs.stat(file).catch(() => null);
  if (!stat?.isFile()) throw new LbcError('LBC_ERR_BAD_REQUEST', `${file}: no such file`);
  let sent = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      view.uploaded(stat.size ? sent / stat.size : 1);
      done(null, chunk);
    },
  });
  const body = Readable.toWeb(createReadStream(file).pipe(meter)) as unknown as BodyInit;
  const query = new URLSearchParams({ name: basename(file), ...hints });
  return answer(await request(flags, 'POST', `/v1/kernels/ingest?${query}`, { body, headers: { 'content-type': 'application/octet-stream', 'content-length': String(stat.size) } }));
}

function answer({ status, body }: { status: number; body: unknown }): IngestStatus {
  if (status >= 400) throw failure(status, body);
  return body as IngestStatus;
}

async function follow(first: IngestStatus, flags: IngestFlags, view: ProgressView): Promise<IngestStatus> {
  let status = first;
  const deadline = Date.now() + flags.timeout * 1000;
  let polls = 0;
  while (status.state !== 'completed') {
    if (status.state === 'failed' && status.error) throw LbcError.fromBody({ error: status.error });
    if (Date.now() > deadline) throw new LbcError('LBC_ERR_INTERNAL', `still ${status.progress.stage} after ${flags.timeout} s; follow it with GET /v1/kernels/ingest/${status.id}`);
    view.job(status.progress.stage, status.progress.percent);
    // Often at first (small packages finish in about a second), then calmer.
    await sleep(polls++ < 20 ? 100 : 500);
    const res = await request(flags, 'GET', `/v1/kernels/ingest/${status.id}`);
    if (res.status >= 400) throw failure(res.status, res.body);
    status = res.body as IngestStatus;
  }
  view.job('done', 100);
  return status;
}

function describe(file: string, s: IngestStatus): string {
  const k = s.kernel!;
  return `${file}: ${s.duplicate ? 'already ingested' : 'registered'} ${k.release} ${k.arch}${k.distro ? ` ${k.distro}` : ''} btf ${k.btfSha256.slice(0, 12)} (${s.btfSource ?? 'btf'}${k.bootable ? ', bootable' : ''})`;
}

export function ingestCommand(dataDir: () => string | undefined): Command {
  return new Command('ingest')
    .description('ingest kernel packages (debuginfo/image RPMs, image/-dbg DEBs, ddebs, BTFHub .btf.tar.xz, raw BTF) through the API')
    .argument('<files...>', 'package files (or, with --path, paths under the service\'s LBC_INGEST_PATH_ROOT)')
    .addOption(new Option('--server <url>', 'lbc service').env('LBC_SERVER').default('http://127.0.0.1:8080'))
    .addOption(new Option('--token <token>', 'admin token (not needed on the service host: lbc-admin mints one for the run from the data directory)').env('LBC_TOKEN'))
    .option('--release <release>', 'kernel release, for raw BTF and files without metadata')
    .option('--arch <arch>', `architecture (${ARCHES.join(', ')}), for raw BTF`, (v) => {
      if (!(ARCHES as readonly string[]).includes(v)) throw new InvalidArgumentError(`one of ${ARCHES.join(', ')}`);
      return v;
    })
    .option('--distro <id>', 'distribution as /etc/os-release ID (debian, ubuntu, centos, …); overrides the package\'s')
    .option('--path', 'the files are paths on the service host, not uploads')
    .option('--json', 'print one JSON status per file')
    .option('--timeout <seconds>', 'how long to follow one ingestion', (v) => Number(v), 1800)
    .action(async (files: string[], flags: IngestFlags) => {
      let failed = 0;
      const run = flags.token ? null : mintRunToken(dataDir());
      if (run) flags.token = run.token;
      try {
        await ingestAll(files, flags, () => failed++);
      } finally {
        run?.revoke();
      }
      if (failed) process.exitCode = 1;
    });
}

async function ingestAll(files: string[], flags: IngestFlags, onFailure: () => void): Promise<void> {
  for (const file of files) {
    const view = new ProgressView(basename(file));
    try {
      const status = await follow(await submit(file, flags, view), flags, view);
      view.stop();
      process.stdout.write(flags.json ? `${JSON.stringify({ file, ...status })}\n` : `${describe(file, status)}\n`);
    } catch (err) {
      view.stop();
      onFailure();
      const e = err instanceof LbcError ? err : new LbcError('LBC_ERR_INTERNAL', (err as Error).message);
      if (flags.json) process.stdout.write(`${JSON.stringify({ file, error: e.toBody().error })}\n`);
      process.stderr.write(`${file}: ${e.format()}\n`);
    }
  }
}
