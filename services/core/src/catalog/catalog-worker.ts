/**
 * Worker-thread entry of the catalog indexer: builds one catalog file from the BTF handed over in
 * workerData and reports its stats, so the seconds of parsing and inserting never run on the
 * API's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildCatalogFile } from './build-catalog.ts';

export interface CatalogJob {
  btf: Uint8Array;
  outPath: string;
  btfSha256: string;
}

const job = workerData as CatalogJob;
try {
  const stats = buildCatalogFile(Buffer.from(job.btf.buffer, job.btf.byteOffset, job.btf.byteLength), job.outPath, job.btfSha256);
  parentPort!.postMessage({ ok: true, stats });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message ?? String(err) });
}
