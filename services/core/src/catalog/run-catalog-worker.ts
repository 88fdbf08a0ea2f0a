/** Runs the catalog indexer in a worker thread (catalog-worker.ts) and resolves with its stats. */
import { runThread, siblingEntry } from '../threads/run-thread.ts';
import type { CatalogBuildStats } from './build-catalog.ts';
import type { CatalogJob } from './catalog-worker.ts';

/** A vmlinux BTF index peaks at a few hundred MB of heap; a hostile BTF gets no more than this. */
const WORKER_HEAP_MB = 1536;

export function runCatalogWorker(job: CatalogJob, timeoutMs: number): Promise<CatalogBuildStats> {
  const btf = new Uint8Array(job.btf); // a private copy the worker takes over
  return runThread<CatalogBuildStats>(siblingEntry(import.meta.url, 'catalog-worker'), { ...job, btf }, [btf.buffer as ArrayBuffer], {
    heapMb: WORKER_HEAP_MB,
    timeoutMs,
  });
}
