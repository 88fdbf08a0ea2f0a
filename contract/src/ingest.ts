/** Kernel package ingestion over the API: POST /v1/kernels/ingest and GET /v1/kernels/ingest/:id. */
import type { Arch, JobState, KernelInfo } from './api.ts';
import type { ErrorBody } from './errors.ts';

export type IngestStage = 'queued' | 'fetching' | 'detecting' | 'metadata' | 'unpacking' | 'converting' | 'encoding' | 'registering' | 'done';

export interface IngestProgress {
  stage: IngestStage;
  percent: number;
}

/** Query of POST /v1/kernels/ingest: the file's name (checked against its metadata) and hints for files without metadata. */
export interface IngestQuery {
  name: string;
  release?: string;
  arch?: Arch;
  distro?: string;
  /** How long to wait for the ingestion before answering 202 (milliseconds, as digits in the query). */
  waitMs?: string;
}

export interface IngestStatus {
  /** ingest-<package sha256> */
  id: string;
  packageSha256: string;
  state: JobState;
  progress: IngestProgress;
  /** The registered kernel, once done. */
  kernel?: KernelInfo;
  /** The package had been ingested before: nothing was done. */
  duplicate?: boolean;
  /** How the BTF was obtained: section (.BTF of an ELF vmlinux), image (the blob inside a non-ELF kernel image), dwarf (pahole), raw. */
  btfSource?: string;
  error?: ErrorBody['error'];
}
