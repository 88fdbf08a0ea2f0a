/**
 * The contract of the ingest queue between the API (producer) and the workers: a kernel package,
 * in the farm blob store under its sha256 (the receiving API node's disk, or the S3 store; workers
 * get it by hash, store/farm-blobs.ts), becomes raw BTF plus the kernel's identity.
 * The worker never registers: it publishes the BTF to Redis and the API registers it when the job
 * completes, so a kernel set appears whole or not at all.
 */
import { join } from 'node:path';
import type { Arch, BootImageRef, IngestProgress, IngestStage } from '@lbc/contract';
import { QUEUE_NAMES } from '../redis/redis-keys.ts';

export type { IngestProgress, IngestStage };

export const INGEST_QUEUE = QUEUE_NAMES.ingest;

/** What the admin may state for files that carry no metadata (raw BTF, BTFHub archives). */
export interface IngestHints {
  release?: string;
  arch?: Arch;
  distro?: string;
}

export interface IngestJobData {
  /** sha256 of the package bytes: the worker gets them by this hash from the farm blob store. */
  packageSha256: string;
  /** The name the admin gave the file: checked against the package's own metadata. */
  fileName: string;
  size: number;
  hints: IngestHints;
  /** Largest unpacked size a package header may claim. */
  maxUnpackedBytes: number;
}

export interface IngestJobResult {
  btfSha256: string;
  btfSize: number;
  release: string;
  arch: Arch;
  distro: string;
  /** rpm | deb | btf-tar | btf | vmlinux | image (a bare arm64 Image) */
  format: string;
  /** section (an ELF vmlinux's .BTF) | image (the blob inside a non-ELF kernel image) | dwarf (encoded with pahole) | raw */
  btfSource: string;
  packageName: string;
  packageVersion: string;
  /**
   * A kernel image package's boot image (vmlinuz, arm64 Image): published by the worker to the farm
   * blob store under its sha256 (store/farm-blobs.ts); the API fetches its own copy by hash.
   */
  bootImage?: BootImageRef;
  /** Wall-clock time in the ingest container. */
  ms: number;
}

/** The largest boot image kept (Debian's are 8-30 MB); a larger one is LBC_ERR_INGEST_TOO_LARGE. */
export const MAX_BOOT_IMAGE_BYTES = 256 * 1024 * 1024;

export const ingestJobId = (packageSha256: string): string => `ingest-${packageSha256}`;

/**
 * The API node's ledger of packages it received whose ingestion has not ended, an empty file per
 * sha256 (the bytes are in the blob store): what its next start sweeps or announces again.
 */
export const ingestPackagesDir = (dataDir: string): string => join(dataDir, 'ingest', 'packages');
export const packagePath = (dataDir: string, packageSha256: string): string => join(ingestPackagesDir(dataDir), packageSha256);
/** Uploads being received; moved into the blob store once complete and hashed. */
export const ingestSpoolDir = (dataDir: string): string => join(dataDir, 'ingest', 'spool');
/** A worker's working copies of packages fetched from elsewhere (another node or the S3 store). */
export const fetchedPackagesDir = (dataDir: string): string => join(dataDir, 'ingest', 'fetched');
