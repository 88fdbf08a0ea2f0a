/**
 * What a large kernel package costs in memory on its way through the farm (issue 18: packages live
 * in the blob store by hash, streamed, never whole in memory):
 *  1. the all-in-one service (API + worker in one process) receives an upload of SIZE MB; its
 *     resident memory is sampled during the upload and the ingestion that follows;
 *  2. a node fetches a blob of SIZE MB by hash from another node's endpoint as a file
 *     (FarmBlobs.fetchFile, what a worker on another host does with a package), and, for
 *     comparison, as a Buffer (FarmBlobs.get, the path for small blobs).
 * Run: node --import tsx bench/package-memory.ts [sizeMB]
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ensureFarmSecret } from '@lbc/core';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { startBlobNode } from '@lbc/worker';
import { report } from './stats.ts';

const sizeMb = Number(process.argv[2] ?? 512);
const MB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'lbc-bench-pkgmem-'));

/** A file of sizeMb MB of random bytes (written in 1 MB pieces). */
async function bigFile(path: string): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < sizeMb; i++) if (!out.write(randomBytes(MB))) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

const rssOf = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

/** Runs `work` while sampling `sample()` every 20 ms; returns the largest sample. */
async function peakDuring(sample: () => number, work: () => Promise<unknown>): Promise<number> {
  let peak = sample();
  const timer = setInterval(() => (peak = Math.max(peak, sample())), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, sample());
}

const redisServer = await startPrivateRedis();
const rows: [string, string][] = [];
try {
  const file = join(dir, 'package.bin');
  await bigFile(file);

  // No tokens: the bench measures bytes, not access control.
  const service = await startService({ redisUrl: redisServer.url, env: { LBC_AUTH: 'off' } });
  try {
    const pid = service.process.pid!;
    const before = rssOf(pid);
    let answer = '';
    const began = Date.now();
    const peak = await peakDuring(
      () => rssOf(pid),
      async () => {
        const res = await fetch(`${service.url}/v1/kernels/ingest?name=vmlinux-6.1.0-bench&release=6.1.0-bench&arch=x86_64&waitMs=600000`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: createReadStream(file) as unknown as BodyInit,
          duplex: 'half',
        } as RequestInit);
        answer = `${res.status} ${(await res.text()).slice(0, 160)}`;
      },
    );
    rows.push([`the service's answer after ${((Date.now() - began) / 1000).toFixed(1)} s`, answer]);
    rows.push([`service RSS before the upload`, `${(before / MB).toFixed(0)} MB`]);
    rows.push([`service RSS peak, upload of ${sizeMb} MB and its ingestion`, `${(peak / MB).toFixed(0)} MB (+${((peak - before) / MB).toFixed(0)} MB)`]);
  } finally {
    await service.stop();
  }

  const redis = new Redis(redisServer.url);
  await ensureFarmSecret(redis);
  const holder = await startBlobNode({ redis, dataDir: join(dir, 'holder') });
  const fetcher = await startBlobNode({ redis, dataDir: join(dir, 'fetcher') });
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    const bytesSha = hash.digest('hex');
    await holder.blobs.disk.adopt(file, bytesSha);
    await holder.blobs.publishFile(bytesSha);
    const self = () => process.memoryUsage().rss;
    let base = self();
    const streamed = await peakDuring(self, () => fetcher.blobs.fetchFile(bytesSha, { size: sizeMb * MB }, join(dir, 'copy')));
    rows.push([`node fetching ${sizeMb} MB by hash as a file (fetchFile), RSS growth`, `+${((streamed - base) / MB).toFixed(0)} MB`]);
    rmSync(join(dir, 'copy'), { force: true });
    base = self();
    const buffered = await peakDuring(self, () => fetcher.blobs.get(bytesSha));
    rows.push([`the same as a Buffer (get), RSS growth`, `+${((buffered - base) / MB).toFixed(0)} MB`]);
  } finally {
    await holder.close();
    await fetcher.close();
    redis.disconnect();
  }
  report(`A ${sizeMb} MB kernel package through the farm blob store`, rows);
} finally {
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
