import ora, { type Ora } from 'ora';
import type { JobProgress, JobStatus } from '@lbc/contract';

/** A spinner on stderr when it is a terminal; silent otherwise so piped stderr holds only diagnostics. */
export function startSpinner(text: string): Ora {
  const tty = Boolean(process.stderr.isTTY);
  return ora({ text, stream: process.stderr, isEnabled: tty, isSilent: !tty }).start();
}

export function progressText(name: string, progress: JobProgress, state: JobStatus['state']): string {
  if (state === 'waiting' || state === 'delayed' || progress.stage === 'queued') return `${name}: queued`;
  return `${name}: ${progress.stage} ${Math.round(progress.percent)}%`;
}
