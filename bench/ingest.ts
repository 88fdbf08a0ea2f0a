/**
 * Kernel package ingestion (issue 4), measured in one run on this machine:
 *   Debian's real linux-image-6.1.0-*-cloud-amd64 (apt-get download) through `lbc-admin ingest`
 *   against the all-in-one service (upload → queue → locked-down container → registration), from
 *   process start to exit; the same package again (a no-op); and as baseline the same unpacking
 *   script (ingest-package.sh) run bare on the host with the host's tools.
 * Run: node --import tsx bench/ingest.ts [runs]     (needs the Debian archive: apt-get update)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { downloadDebianCloudKernel } from '@lbc/test-support/debian-kernel';
import { fmt, median, ratio, report, timeMs } from './stats.ts';

const runs = Number(process.argv[2] ?? 3);
const REPO = resolve(import.meta.dirname, '..');
const LBC_ADMIN = join(REPO, 'services/farm/bin/lbc-admin.mjs');
const SCRIPT = join(REPO, 'services/worker/src/ingest/sandbox/ingest-package.sh');

const work = mkdtempSync(join(tmpdir(), 'lbc-bench-ingest-'));
const redis = await startPrivateRedis();
try {
  const pkg = downloadDebianCloudKernel(work);
  const sizeMb = statSync(pkg.file).size / 1e6;

  // lbc-admin on the service host: it mints its run's admin token from the service's data directory.
  const admin = (server: string, dataDir: string) => {
    const r = spawnSync(process.execPath, [LBC_ADMIN, 'ingest', '--server', server, '--json', pkg.file], { encoding: 'utf8', env: { ...process.env, LBC_DATA_DIR: dataDir } });
    if (r.status !== 0) throw new Error(`lbc-admin ingest failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as { duplicate?: boolean; kernel: { release: string; btfSize: number } };
  };

  const full: number[] = [];
  const again: number[] = [];
  let btfSize = 0;
  for (let i = 0; i < runs; i++) {
    // A fresh farm each time: the same package is otherwise (rightly) a no-op.
    execFileSync('redis-cli', ['-p', String(redis.port), 'flushall'], { stdio: 'ignore' });
    const service = await startService({ redisUrl: redis.url });
    try {
      const [ms, first] = await timeMs(() => admin(service.url, service.dataDir));
      if (first.kernel.release !== pkg.release || first.duplicate) throw new Error(`unexpected result ${JSON.stringify(first)}`);
      btfSize = first.kernel.btfSize;
      full.push(ms);
      const [msAgain, second] = await timeMs(() => admin(service.url, service.dataDir));
      if (!second.duplicate) throw new Error('the second ingestion was not a no-op');
      again.push(msAgain);
    } finally {
      await service.stop();
    }
  }

  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = join(work, `bare-${i}`);
    mkdirSync(join(out, 'out'), { recursive: true });
    mkdirSync(join(out, 'scratch'));
    const [ms] = await timeMs(() => execFileSync('bash', [SCRIPT, pkg.file, join(out, 'out'), join(out, 'scratch'), String(8 * 1024 ** 3)], { stdio: 'ignore' }));
    bare.push(ms);
    rmSync(out, { recursive: true, force: true });
  }

  report(`ingest ${pkg.file.split('/').pop()} (${sizeMb.toFixed(1)} MB → ${(btfSize / 1e6).toFixed(1)} MB BTF), ${runs} runs`, [
    ['lbc-admin ingest, end to end (upload, queue, container, register)', `median ${fmt(median(full))} (${full.map(fmt).join(', ')})`],
    ['same package again (no-op)', `median ${fmt(median(again))}`],
    ['bare: ingest-package.sh on the host, no container/queue/API', `median ${fmt(median(bare))}`],
    ['end to end vs bare', ratio(median(full), median(bare))],
  ]);
} finally {
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
}
