/**
 * The full check of BTF from outside (uploads, ingested packages): @lbc/btf's parser, run in a
 * worker thread under a heap cap and a wall-clock limit. Whatever the bytes are, the caller gets
 * the type count or an LbcError, and the process that asked keeps serving.
 */
import pLimit from 'p-limit';
import { LbcError } from '@lbc/contract';
import { ThreadLimitError, ThreadWorkError, runThread, siblingEntry } from '../threads/run-thread.ts';

export interface BtfCheckLimits {
  /** Heap for the parse: a base plus a multiple of the input (a vmlinux BTF needs ~6× its size). */
  heapMb?: number;
  timeoutMs?: number;
}

export const DEFAULT_BTF_CHECK_TIMEOUT_MS = 30_000;
const HEAP_BASE_MB = 64;
const HEAP_PER_INPUT_MB = 24;
const HEAP_MAX_MB = 2048;

/** Checks running at once in this process; the rest queue, so a burst of uploads costs at most this many heap caps. */
export const MAX_CONCURRENT_BTF_CHECKS = 2;
const slots = pLimit(MAX_CONCURRENT_BTF_CHECKS);

export function btfCheckHeapMb(bytes: number): number {
  return Math.min(HEAP_MAX_MB, HEAP_BASE_MB + Math.ceil((HEAP_PER_INPUT_MB * bytes) / (1 << 20)));
}

/** Resolves with the number of types; LBC_ERR_BTF_INVALID for bytes that are not BTF, LBC_ERR_BTF_CHECK_LIMIT past the limits. */
export async function checkBtfInThread(btf: Buffer, limits: BtfCheckLimits = {}): Promise<number> {
  const heapMb = limits.heapMb ?? btfCheckHeapMb(btf.length);
  const timeoutMs = limits.timeoutMs ?? DEFAULT_BTF_CHECK_TIMEOUT_MS;
  try {
    return await slots(() => {
      const copy = new Uint8Array(btf); // the thread takes this copy over; the caller keeps its buffer
      return runThread<number>(siblingEntry(import.meta.url, 'btf-check-worker'), copy, [copy.buffer as ArrayBuffer], { heapMb, timeoutMs });
    });
  } catch (err) {
    if (err instanceof ThreadWorkError && err.errorName === 'BtfParseError') throw new LbcError('LBC_ERR_BTF_INVALID', err.message, undefined, { cause: err });
    if (err instanceof ThreadLimitError) {
      throw new LbcError('LBC_ERR_BTF_CHECK_LIMIT', `parsing ${btf.length} bytes of BTF ${err.message}`, { reason: err.reason, heapMb, timeoutMs }, { cause: err });
    }
    throw new LbcError('LBC_ERR_BTF_INVALID', (err as Error).message, undefined, { cause: err });
  }
}
