/** The worker-thread side of runThread: runs the work on workerData and posts its value or error. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ThreadAnswer } from './run-thread.ts';

export function answerParent<D, T>(work: (data: D) => T): void {
  let answer: ThreadAnswer<T>;
  try {
    answer = { ok: true, value: work(workerData as D) };
  } catch (err) {
    answer = { ok: false, name: (err as Error).name ?? 'Error', message: (err as Error).message ?? String(err) };
  }
  parentPort!.postMessage(answer);
}
