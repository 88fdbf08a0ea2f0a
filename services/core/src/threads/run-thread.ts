/**
 * Runs CPU-bound work on untrusted bytes in a worker thread with a heap cap and a wall-clock limit,
 * so a hostile input costs at most those and the event loop of the API or worker keeps serving.
 * Under tsx (how the services run) a thread does not inherit the TypeScript loader, so it
 * registers tsx first. The entry module answers through answerParent (thread-entry.ts).
 */
import { Worker } from 'node:worker_threads';

export interface ThreadLimits {
  /** V8 old-generation cap; past it the thread dies with ERR_WORKER_OUT_OF_MEMORY, the process lives on. */
  heapMb: number;
  timeoutMs: number;
}

/** The thread did not answer: it ran out of its heap, past its time, or died otherwise. */
export class ThreadLimitError extends Error {
  constructor(
    readonly reason: 'memory' | 'time' | 'exit',
    message: string,
  ) {
    super(message);
    this.name = 'ThreadLimitError';
  }
}

/** What the entry's work threw, carried across the thread boundary by name and message. */
export class ThreadWorkError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = 'ThreadWorkError';
  }
}

export type ThreadAnswer<T> = { ok: true; value: T } | { ok: false; name: string; message: string };

/** The module URL of a sibling entry file, .ts under tsx and .js when compiled. */
export function siblingEntry(importMetaUrl: string, baseName: string): string {
  return new URL(`./${baseName}${importMetaUrl.endsWith('.ts') ? '.ts' : '.js'}`, importMetaUrl).href;
}

export function runThread<T>(entry: string, workerData: unknown, transferList: ArrayBuffer[], limits: ThreadLimits): Promise<T> {
  const bootstrap = entry.endsWith('.ts')
    ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`
    : `import(${JSON.stringify(entry)})`;
  const worker = new Worker(bootstrap, { eval: true, workerData, transferList, resourceLimits: { maxOldGenerationSizeMb: limits.heapMb } });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(() => settle(() => reject(new ThreadLimitError('time', `took longer than ${limits.timeoutMs} ms`))), limits.timeoutMs);
    worker.once('message', (answer: ThreadAnswer<T>) =>
      settle(() => (answer.ok ? resolve(answer.value) : reject(new ThreadWorkError(answer.name, answer.message)))),
    );
    worker.once('error', (err: NodeJS.ErrnoException) =>
      settle(() =>
        reject(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new ThreadLimitError('memory', `needed more than its ${limits.heapMb} MB heap`) : err),
      ),
    );
    worker.once('exit', (code) => settle(() => reject(new ThreadLimitError('exit', `the thread exited with code ${code} before answering`))));
  });
}
