/**
 * The contract between the API (producer) and the workers (consumers): queue name, job data and
 * job result. Both sides import it from here; nothing else crosses Redis.
 */
import type { ErrorCode, HeaderMode, JobProgress } from '@lbc/contract';
import { QUEUE_NAMES } from '../redis/redis-keys.ts';

export const COMPILE_QUEUE = QUEUE_NAMES.compile;
/** Redis key prefix of everything lbc stores beside BullMQ's own keys (the key catalogue, redis-keys.ts, has each key). */
export { REDIS_PREFIX } from '../redis/redis-keys.ts';

export interface CompileJobData {
  cacheKey: string;
  /** Program name: the main file is `${name}.bpf.c` inside the sandbox and in diagnostics. */
  name: string;
  source: string;
  includes: Record<string, string>;
  cflags: string[];
  /** Kernel set to compile against; workers fetch its BTF by this hash (see kernels/btf-store.ts). */
  btfSha256: string;
  /**
   * The header choice the API made (absent from jobs of an older API: then the kernel set is the
   * target's own). `target`: the BTF of the request that created the job; a CO-RE job serves every
   * target of its arch, and its status names this first one as its kernel.
   */
  header?: { mode: HeaderMode; reason?: string; target: string };
  arch: string;
  /** Toolchain identity the API put in the cache key; a worker with another toolchain must not take the job. */
  toolchain: string;
  /** The API request that queued the job: logged by the worker, so one id follows a compile end to end. */
  requestId?: string;
  /** Tenant of that request ("local" for anonymous loopback clients). */
  tenant?: string;
  /** Also minimize the kernel's BTF for the object (bpftool gen min_core_btf). */
  minBtf?: boolean;
}

export type CompileJobResult =
  | {
      ok: true;
      /** The .bpf.o by reference: the worker published it in the farm blob store (store/farm-blobs.ts) under this hash. */
      sha256: string;
      size: number;
      warnings: string;
      compileMs: number;
      /** With data.minBtf: the object's minimized BTF, published the same way; absent when bpftool failed (minBtfError says why). */
      minBtf?: { sha256: string; size: number };
      minBtfError?: string;
    }
  | {
      ok: false;
      /** Compile errors are results, not retries: LBC_ERR_COMPILE or LBC_ERR_COMPILE_LIMIT. */
      code: Extract<ErrorCode, 'LBC_ERR_COMPILE' | 'LBC_ERR_COMPILE_LIMIT'>;
      /** Diagnostics as clang prints them, file names rewritten to the user's own. */
      diagnostics: string;
    };

export type CompileJobProgress = JobProgress;
