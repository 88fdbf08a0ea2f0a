import { isLbcError } from '@lbc/contract';

/** What the service sends along with a compile error: clang's own output, with the user's file names. */
export function diagnosticsOf(err: unknown): string | undefined {
  if (!isLbcError(err)) return undefined;
  const d = err.details?.diagnostics;
  return typeof d === 'string' && d.length > 0 ? d : undefined;
}

/** Prints an error the way every lbc command does (diagnostics as clang prints them, then CODE + fix) and sets exit code 1. */
export function reportError(err: unknown): void {
  const diagnostics = diagnosticsOf(err);
  if (diagnostics) process.stderr.write(diagnostics.endsWith('\n') ? diagnostics : `${diagnostics}\n`);
  if (isLbcError(err)) process.stderr.write(`${err.format()}\n`);
  else process.stderr.write(`lbc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
