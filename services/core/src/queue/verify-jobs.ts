/**
 * The verify queue's contract between the API (producer) and the workers: queue name, job data and
 * result. A verify job names, per kernel, the compile the farm would make for it (its compile cache
 * key: the worker gets the object through the compile queue, or from the API's cache by sha256),
 * the kernel's boot image by sha256, and the setup and workload to run in the guest.
 */
import type { BootImageRef, ErrorBody, HeaderMode, KernelVerdict, VerifyKernelRef, VerifyProgress, VerifySetup, VerifyWorkload } from '@lbc/contract';
import { QUEUE_NAMES } from '../redis/redis-keys.ts';

export const VERIFY_QUEUE = QUEUE_NAMES.verify;

export interface VerifyKernelTask {
  kernel: VerifyKernelRef;
  bootImage: BootImageRef;
  /** The compile cache key of the object for this kernel (the compile job's id is derived from it). */
  compileCacheKey: string;
  /** The header that compile is against (the arch's newest for a CO-RE program) and the choice made. */
  header: { btfSha256: string; mode: HeaderMode };
  /**
   * Set for a CO-RE compile against another kernel's header: the compile against this kernel's own
   * header, tried when the newest one does not compile the program (as POST /v1/compile does).
   */
  ownHeader?: { btfSha256: string; compileCacheKey: string };
  /** Set when the API's cache already holds the object: published by sha256 in shared artifacts. */
  objectSha256?: string;
}

export interface VerifyJobData {
  /** Program name: the main file is `${name}.bpf.c`. */
  name: string;
  source: string;
  includes: Record<string, string>;
  cflags: string[];
  /** The compile image identity the API keyed the compiles with. */
  toolchain: string;
  /** Kernels still to verify, in the request's order among themselves. */
  kernels: VerifyKernelTask[];
  /** Verdicts the API already had (cached), kept so the job's answer names every kernel asked for. */
  known: KernelVerdict[];
  /** The order of the answer: every kernel's btfSha256 as the request named them. */
  order: string[];
  setup?: VerifySetup;
  workload?: VerifyWorkload;
  requestId?: string;
  tenant?: string;
}

/** A kernel's verdict as the worker returns it; the API stores the compile and the verdict. */
export interface WorkerVerdict extends KernelVerdict {
  /** The compile job the object came from (the API settles it into its artifact cache). */
  compileJobId?: string;
}

export interface VerifyJobResult {
  /** The lab version of the worker that ran the guests. */
  labVersion: string;
  verdicts: WorkerVerdict[];
}

export type VerifyJobProgress = VerifyProgress;

/** How a compile failure or a guest fault reads inside a verdict. */
export type VerdictError = ErrorBody['error'];

export const verifyJobIdPattern = /^verify-[0-9a-f]{64}$/;
