/**
 * Worker-thread entry of the catalog indexer: builds one catalog file from the BTF handed over in
 * workerData and answers its stats, so the seconds of parsing and inserting never run on the
 * API's event loop.
 */
import { answerParent } from '../threads/thread-entry.ts';
import { buildCatalogFile } from './build-catalog.ts';

export interface CatalogJob {
  btf: Uint8Array;
  outPath: string;
  btfSha256: string;
}

answerParent((job: CatalogJob) => buildCatalogFile(Buffer.from(job.btf.buffer, job.btf.byteOffset, job.btf.byteLength), job.outPath, job.btfSha256));
