import { isLbcError } from '@lbc/contract';

/** What the service sends along with a compile error: clang's own output, with the user's file names. */
export function diagnosticsOf(err: unknown): string | undefined {
  if (!isLbcError(err)) return undefined;
  const d = err.details?.diagnostics;
  return typeof d === 'string' && d.length > 0 ? d : undefined;
}

interface KernelSuggestion {
  btfSha256: string;
  release: string;
  arch: string;
  distro?: string;
}

/**
 * LBC_ERR_KERNEL_UNKNOWN carries the nearest kernels the service knows, LBC_ERR_KERNEL_AMBIGUOUS the
 * kernels a name matched: show them as ready-to-use flags.
 */
function suggestionLines(err: unknown): string[] {
  const [list, title] = isLbcError(err, 'LBC_ERR_KERNEL_UNKNOWN')
    ? [err.details?.suggestions, 'nearest kernels the service knows:']
    : isLbcError(err, 'LBC_ERR_KERNEL_AMBIGUOUS') && err.details?.target
      ? [err.details?.candidates, 'kernels with that release:']
      : [undefined, ''];
  if (!Array.isArray(list) || list.length === 0) return [];
  return [`  ${title}`, ...(list as KernelSuggestion[]).map((k) => `    --release ${k.release} --arch ${k.arch} --btf-sha ${k.btfSha256}${k.distro ? `   (${k.distro})` : ''}`)];
}

/** Prints an error the way every lbc command does (diagnostics as clang prints them, then CODE + fix) and sets exit code 1. */
export function reportError(err: unknown): void {
  const diagnostics = diagnosticsOf(err);
  if (diagnostics) process.stderr.write(diagnostics.endsWith('\n') ? diagnostics : `${diagnostics}\n`);
  if (isLbcError(err)) process.stderr.write([err.format(), ...suggestionLines(err)].join('\n') + '\n');
  else process.stderr.write(`lbc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
