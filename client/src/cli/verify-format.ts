/**
 * How `lbc verify` prints verdicts: a row per kernel (what loaded and attached, the verifier's
 * instruction count, events seen), then, per kernel that did not pass, why: the failing program's
 * error and the verifier log's last lines, or the kernel's own error (a compile error, a guest that
 * did not boot).
 */
import type { KernelVerdict, ProgramVerdict, VerifyProgress, VerifyResult } from '@lbc/contract';
import { formatTable } from './table.ts';

const LOG_TAIL_LINES = 20;

const sum = (programs: ProgramVerdict[], pick: (p: ProgramVerdict) => number | undefined): number | undefined => {
  const values = programs.map(pick).filter((n): n is number => typeof n === 'number');
  return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
};

function row(v: KernelVerdict): Array<string | number | undefined> {
  const meant = v.programs.filter((p) => p.autoload);
  const loaded = meant.filter((p) => p.loaded).length;
  const attached = meant.filter((p) => p.attached).length;
  return [
    v.kernel.release,
    v.kernel.arch,
    v.status + (v.cached ? ' (cached)' : ''),
    v.status === 'error' && meant.length === 0 ? '-' : `${loaded}/${meant.length}`,
    v.status === 'error' && meant.length === 0 ? '-' : `${attached}/${meant.length}`,
    sum(meant, (p) => p.verifiedInstructions) ?? '-',
    sum(meant, (p) => p.events) ?? '-',
    v.bootMs !== undefined ? `${(v.bootMs / 1000).toFixed(1)}s` : '-',
  ];
}

export function verdictTable(result: VerifyResult): string {
  return formatTable(['KERNEL', 'ARCH', 'STATUS', 'LOADED', 'ATTACHED', 'INSNS', 'EVENTS', 'TIME'], result.verdicts.map(row));
}

/** Why each kernel that did not pass failed, in the user's terms. */
export function failureDetails(result: VerifyResult): string {
  const out: string[] = [];
  for (const v of result.verdicts) {
    if (v.status === 'passed') continue;
    const title = `${v.kernel.release} (${v.kernel.arch})`;
    if (v.error) {
      out.push(`${title}: ${v.error.code}: ${v.error.message}`);
      const diagnostics = v.error.details?.diagnostics;
      if (typeof diagnostics === 'string' && diagnostics) out.push(...diagnostics.trimEnd().split('\n').map((l) => `  ${l}`));
      else out.push(`  fix: ${v.error.hint}`);
    }
    for (const p of v.programs) {
      if (!p.autoload || (p.loaded && p.attached)) continue;
      const what = p.loaded ? 'loaded but did not attach' : 'did not load';
      out.push(`${title}: program ${p.name} (${p.section}) ${what}${p.error ? `: ${p.error}` : ''}`);
      const log = p.verifierLog ?? [];
      if (log.length > 0) {
        out.push(`  verifier log (last ${Math.min(log.length, LOG_TAIL_LINES)} lines):`);
        out.push(...log.slice(-LOG_TAIL_LINES).map((l) => `    ${l}`));
      }
    }
  }
  return out.length ? `\n${out.join('\n')}\n` : '';
}

export function verifyProgressText(name: string, progress: VerifyProgress | undefined, state: string): string {
  if (!progress || state === 'waiting' || state === 'delayed' || progress.stage === 'queued') return `${name}: queued`;
  const kernels = `${progress.done}/${progress.total} kernels`;
  return `${name}: ${progress.stage === 'compiling' ? 'compiling and booting' : progress.stage} (${kernels} done)`;
}
