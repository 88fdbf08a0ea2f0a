/**
 * What a failed job means to the API, for every queue: the worker's own code when it named an input
 * fault, else a sandbox fault.
 */
import { LbcError, type ErrorCode } from '@lbc/contract';

/**
 * Failures that are the job's input, not the farm's: a worker gives up on them at once instead of
 * burning its attempts, and a failed job reports them with their own code. A user's mistake (a bad
 * name, flag or source) is a result, never a failure; the last five are listed should one ever throw.
 */
export const INPUT_FAULTS: ReadonlySet<string> = new Set<ErrorCode>([
  'LBC_ERR_BTF_INVALID',
  'LBC_ERR_BTF_HASH_MISMATCH',
  'LBC_ERR_KERNEL_SET_FAILED',
  'LBC_ERR_BAD_REQUEST',
  'LBC_ERR_CFLAG_FORBIDDEN',
  'LBC_ERR_INCLUDE_FORBIDDEN',
  'LBC_ERR_INCLUDE_NAME_INVALID',
  'LBC_ERR_SOURCE_FORBIDDEN',
]);

/** A failed job's error: the worker's own code when it named an input fault ("CODE: message"), else a sandbox fault. */
export function failedJobError(reason: string | undefined, details: Record<string, unknown>): LbcError {
  const m = /^(LBC_ERR_[A-Z_]+): ([\s\S]*)$/.exec(reason ?? '');
  if (m && INPUT_FAULTS.has(m[1]!)) {
    const err = new LbcError(m[1] as ErrorCode, undefined, details);
    // The reason carries the worker's whole message (catalogue text included).
    err.message = m[2]!;
    return err;
  }
  return new LbcError('LBC_ERR_SANDBOX', reason || 'the compile job failed', details);
}
