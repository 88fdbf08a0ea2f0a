/**
 * What a worker hands to BullMQ, which stores it in the job record that GET /v1/jobs answers from:
 * texts without host paths. The last line between the worker's machinery and a caller.
 */
import { UnrecoverableError } from 'bullmq';
import type { CompileJobResult, HostPathScrub } from '@lbc/core';

/**
 * What BullMQ stores of a failure (failedReason, stacktrace) goes to every caller of GET /v1/jobs:
 * the message without host paths, and no stack (its frames name where the service is installed).
 * The worker's own log keeps the whole error.
 */
export function publicError(err: unknown, scrub: HostPathScrub): Error {
  const message = scrub(err instanceof Error ? err.message : String(err));
  const out = err instanceof UnrecoverableError ? new UnrecoverableError(message) : new Error(message);
  if (!(err instanceof UnrecoverableError) && err instanceof Error) out.name = err.name;
  out.stack = `${out.name}: ${message}`;
  return out;
}

/** A job result as it is stored and answered: its texts without host paths (the object is a reference by hash, untouched). */
export function publicResult(result: CompileJobResult, scrub: HostPathScrub, scrubDiagnostics: HostPathScrub): CompileJobResult {
  if (!result.ok) return { ...result, diagnostics: scrubDiagnostics(result.diagnostics) };
  return { ...result, warnings: scrubDiagnostics(result.warnings), ...(result.minBtfError ? { minBtfError: scrub(result.minBtfError) } : {}) };
}
