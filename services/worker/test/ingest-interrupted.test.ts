/**
 * A worker killed (SIGKILL) in the middle of an ingestion: nothing is registered meanwhile, the job
 * is taken over by another worker once its lock lapses and starts over, the kernel is registered
 * once, and the dead worker's container and job directory are swept.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestJobId, ingestPackagesDir, ingestSpoolDir, type IngestProgress } from '@lbc/core';
import { DEFAULT_INGEST_SETTINGS, IngestService } from '@lbc/api';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';
import { startIngestHarness, type IngestHarness } from '@lbc/test-support/ingest-harness';
import { startIngestWorker, type RunningIngestWorker } from '../src/ingest/ingest-worker.ts';

const CHILD = fileURLToPath(new URL('./ingest-worker-child.ts', import.meta.url));
let h: IngestHarness;
let fx: FixtureBuilder;
let child: ChildProcess | undefined;
let takeover: RunningIngestWorker | undefined;
const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-kill-'));

beforeAll(async () => {
  fx = new FixtureBuilder(dir);
  // Only the child, then the take-over worker, run jobs.
  h = await startIngestHarness({ worker: false });
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await takeover?.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A kernel image whose vmlinuz is 200 MB of padding before the compressed ELF: unpacking takes a while. */
function slowPackage(): string {
  const elf = fx.btfElf('killed_mid_ingest');
  const vmlinuz = join(dir, 'vmlinuz-padded');
  execFileSync('sh', ['-c', `head -c 200000000 /dev/zero > ${vmlinuz} && gzip -c ${elf} >> ${vmlinuz}`]);
  return fx.deb({ name: 'linux-image-6.1.0-60-cloud-amd64', version: '6.1.60-1', arch: 'amd64', files: { '/boot/vmlinuz-6.1.0-60-cloud-amd64': vmlinuz }, compression: 'gzip' });
}

describe('an ingestion whose worker is killed', () => {
  it('restarts cleanly on another worker and registers the kernel once', async () => {
    const deb = slowPackage();
    child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, REDIS_URL: h.privateRedis.url, LBC_DATA_DIR: h.dataDir }, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ready, fail) => {
      child!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && ready());
      child!.once('exit', (code) => fail(new Error(`ingest worker child exited with ${code}`)));
    });

    const running = h.service.submit({ kind: 'upload', body: createReadStream(deb), fileName: basename(deb) }, {}, 0);
    const { id } = await running;
    // Killed once its container is at work.
    for (let i = 0; i < 200; i++) {
      const job = await h.service.queue.getJob(id);
      if (job && ((job.progress as IngestProgress).stage === 'unpacking' || (job.progress as IngestProgress).stage === 'converting')) break;
      await sleep(25);
    }
    const docker = new Dockerode();
    const busy = await docker.listContainers({ filters: { label: ['lbc.role=ingest', `lbc.owner.pid=${child.pid}`] } });
    expect(busy).toHaveLength(1);
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    expect((await h.service.status(id)).state).not.toBe('completed');
    expect(h.registry.list()).toHaveLength(0);

    // Another worker: sweeps the dead one's container and job dir, takes the job over when its lock lapses.
    takeover = await startIngestWorker({ redisUrl: h.privateRedis.url, dataDir: h.dataDir, stalledIntervalMs: 1000, lockDurationMs: 5000 });
    const left = () => docker.listContainers({ all: true, filters: { label: ['lbc.role=ingest', `lbc.owner.pid=${child!.pid}`] } });
    for (let i = 0; i < 50 && (await left()).length > 0; i++) await sleep(100);
    expect(await left()).toEqual([]);
    let status = await h.service.status(id);
    for (let i = 0; i < 600 && status.state !== 'completed' && status.state !== 'failed'; i++) {
      await sleep(100);
      status = await h.service.status(id);
    }
    expect(status.error).toBeUndefined();
    expect(status).toMatchObject({ state: 'completed', kernel: { release: '6.1.0-60-cloud-amd64', source: 'package' } });
    expect(h.registry.list()).toHaveLength(1);
    expect(readdirSync(ingestPackagesDir(h.dataDir))).toEqual([]);
    const jobs = join(h.dataDir, 'jobs');
    expect(existsSync(jobs) ? readdirSync(jobs) : []).toEqual([]);
  }, 120_000);

  it('the next API start removes what a dead API process left: half uploads and packages without a job', async () => {
    // No worker from here on: the queued job below must stay queued.
    await takeover?.close();
    takeover = undefined;
    mkdirSync(ingestSpoolDir(h.dataDir), { recursive: true });
    mkdirSync(ingestPackagesDir(h.dataDir), { recursive: true });
    const halfUpload = join(ingestSpoolDir(h.dataDir), 'upload-999999-1-x');
    const orphan = join(ingestPackagesDir(h.dataDir), 'a'.repeat(64));
    const fresh = join(ingestSpoolDir(h.dataDir), 'upload-999999-2-y');
    for (const f of [halfUpload, orphan, fresh]) writeFileSync(f, 'partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const f of [halfUpload, orphan]) utimesSync(f, twoHoursAgo, twoHoursAgo);
    // A package whose job is still queued stays, however old.
    const queuedSha = 'b'.repeat(64);
    const queued = join(ingestPackagesDir(h.dataDir), queuedSha);
    writeFileSync(queued, 'queued');
    utimesSync(queued, twoHoursAgo, twoHoursAgo);
    await h.service.queue.add('queued.deb', { packageSha256: queuedSha, fileName: 'queued.deb', size: 6, hints: {}, maxUnpackedBytes: 1 }, { jobId: ingestJobId(queuedSha) });

    const next = new IngestService({ dataDir: h.dataDir, db: h.db, registry: h.registry, redis: h.redisOwner, settings: DEFAULT_INGEST_SETTINGS });
    try {
      await next.start();
    } finally {
      await next.close();
    }
    expect([halfUpload, orphan].filter(existsSync)).toEqual([]);
    expect({ fresh: existsSync(fresh), queued: existsSync(queued) }).toEqual({ fresh: true, queued: true });
  });
});
