/**
 * Runs the catalog indexer in a worker thread and resolves with its stats. Under tsx (how the
 * services run) a worker does not inherit the TypeScript loader, so it registers tsx first.
 */
import { Worker } from 'node:worker_threads';
import type { CatalogBuildStats } from './build-catalog.ts';
import type { CatalogJob } from './catalog-worker.ts';

/** A vmlinux BTF index peaks at a few hundred MB of heap; a hostile BTF gets no more than this. */
const WORKER_HEAP_MB = 1536;

export function runCatalogWorker(job: CatalogJob, timeoutMs: number): Promise<CatalogBuildStats> {
  const entry = new URL(import.meta.url.endsWith('.ts') ? './catalog-worker.ts' : './catalog-worker.js', import.meta.url).href;
  const bootstrap = entry.endsWith('.ts')
    ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`
    : `import(${JSON.stringify(entry)})`;
  const btf = new Uint8Array(job.btf); // a private copy the worker takes over
  const worker = new Worker(bootstrap, {
    eval: true,
    workerData: { ...job, btf },
    transferList: [btf.buffer as ArrayBuffer],
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`indexing took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (msg: { ok: true; stats: CatalogBuildStats } | { ok: false; message: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (msg.ok) resolve(msg.stats);
      else reject(new Error(msg.message));
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the indexing worker exited with code ${code}`));
    });
  });
}
