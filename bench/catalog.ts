/**
 * Kernel catalog: how long this machine's vmlinux BTF takes to index (in-process, and through the
 * service's worker thread with the event loop's longest stall), the catalog file's size, and query
 * latency over HTTP on loopback (p50/p99) for struct layouts, prototypes and function searches.
 * Baseline for a struct query: `pahole -C task_struct` on the same BTF, one process per query.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { BlobStore, KernelCatalog, KernelRegistry, buildCatalogFile, openDatabase, registerHostKernel } from '@lbc/core';
import { catalogRoutes, installErrorHandlers } from '@lbc/api';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { fmt, median, percentile, ratio, report, sampleMs, timeMs } from './stats.ts';

const RUNS = 300;
const BTF_PATH = '/sys/kernel/btf/vmlinux';

const dir = mkdtempSync(join(tmpdir(), 'lbc-bench-catalog-'));
const redisServer = await startPrivateRedis();
const redis = new Redis(redisServer.url);
const db = openDatabase(dir);
try {
  const btf = readFileSync(BTF_PATH);
  const registry = new KernelRegistry(db, new BlobStore(join(dir, 'blobs')), redis);
  const host = (await registerHostKernel(registry))!;

  // Indexing, in this process (what the worker thread does), three times.
  const inProcess: number[] = [];
  let last = { parseMs: 0, writeMs: 0, structs: 0, members: 0, funcs: 0 };
  for (let i = 0; i < 3; i++) {
    const [ms, stats] = await timeMs(() => buildCatalogFile(btf, join(dir, `run${i}.sqlite`), host.btfSha256));
    inProcess.push(ms);
    last = stats;
  }

  // The service's path: worker thread started, BTF handed over, file renamed into place.
  const catalog = new KernelCatalog({ db, registry, dir: join(dir, 'catalog') });
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const [serviceMs] = await timeMs(() => catalog.prebuild(host.btfSha256));
  delay.disable();
  const fileBytes = statSync(catalog.pathOf(host.btfSha256)).size;

  report(`indexing ${BTF_PATH} (${(btf.length / 1e6).toFixed(1)} MB BTF)`, [
    ['in-process, median of 3', `${fmt(median(inProcess))} (parse ${last.parseMs} ms, write ${last.writeMs} ms)`],
    ['through the worker thread', fmt(serviceMs)],
    ['longest event-loop stall meanwhile', fmt(delay.max / 1e6)],
    ['indexed', `${last.structs} structs/unions, ${last.members} members (flattened), ${last.funcs} funcs`],
    ['catalog file', `${(fileBytes / 1e6).toFixed(1)} MB`],
  ]);

  const app = Fastify();
  installErrorHandlers(app, 1024);
  catalogRoutes(app, catalog);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const kid = host.btfSha256.slice(0, 12);
  const queries: [string, string][] = [
    ['struct task_struct (flattened, ~650 rows)', `/v1/kernels/${kid}/structs/task_struct`],
    ['struct file', `/v1/kernels/${kid}/structs/file`],
    ['func do_filp_open', `/v1/kernels/${kid}/funcs/do_filp_open`],
    ["funcs like=tcp_% (limit 200)", `/v1/kernels/${kid}/funcs?like=tcp_%25&limit=200`],
    ["funcs argType='struct sock *' returns=int", `/v1/kernels/${kid}/funcs?argType=${encodeURIComponent('struct sock *')}&returns=int&limit=200`],
    ['404 with did-you-mean (struct task_strcut)', `/v1/kernels/${kid}/structs/task_strcut`],
  ];
  const rows: [string, string][] = [];
  let structP50 = 0;
  for (const [label, path] of queries) {
    for (let i = 0; i < 20; i++) await (await fetch(base + path)).arrayBuffer();
    const samples = await sampleMs(RUNS, async () => {
      const res = await fetch(base + path);
      await res.arrayBuffer();
    });
    if (label.startsWith('struct task_struct')) structP50 = median(samples);
    rows.push([label, `p50 ${fmt(median(samples))}, p99 ${fmt(percentile(samples, 99))}`]);
  }
  await app.close();
  await catalog.close();

  const pahole = await sampleMs(5, () => execFileSync('pahole', ['-F', 'btf', BTF_PATH, '-C', 'task_struct'], { stdio: ['ignore', 'ignore', 'ignore'] }));
  rows.push(['baseline: pahole -C task_struct (process per query)', `median ${fmt(median(pahole))}`]);
  rows.push(['struct task_struct vs pahole', ratio(structP50, median(pahole))]);
  report(`catalog queries over HTTP on loopback, ${RUNS} each`, rows);
} finally {
  db.close();
  redis.disconnect();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
