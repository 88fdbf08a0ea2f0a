import type { Ora } from 'ora';
import type { JobProgress, JobStatus } from '@lbc/contract';

export interface Spinner {
  text: string;
  stop(): void;
}

// A warm start is ready in tens of ms: it should neither flash a spinner nor pay for loading ora.
const SHOW_AFTER_MS = 150;

/**
 * A spinner on stderr when it is a terminal, shown once the wait outlasts SHOW_AFTER_MS; silent
 * otherwise so piped stderr holds only diagnostics.
 */
export function startSpinner(text: string): Spinner {
  let current = text;
  let shown: Ora | undefined;
  let stopped = false;
  const timer = process.stderr.isTTY
    ? setTimeout(async () => {
        const { default: ora } = await import('ora');
        if (!stopped) shown = ora({ text: current, stream: process.stderr }).start();
      }, SHOW_AFTER_MS).unref()
    : undefined;
  return {
    get text() {
      return current;
    },
    set text(value: string) {
      current = value;
      if (shown) shown.text = value;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      shown?.stop();
    },
  };
}

export function progressText(name: string, progress: JobProgress, state: JobStatus['state']): string {
  if (state === 'waiting' || state === 'delayed' || progress.stage === 'queued') return `${name}: queued`;
  return `${name}: ${progress.stage} ${Math.round(progress.percent)}%`;
}
