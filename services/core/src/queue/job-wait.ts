/**
 * Waiting for a BullMQ job on behalf of an HTTP request, for every queue (compile, verify): the
 * job's finish, the caller's stop signal or an outer bound, whichever comes first.
 */
import type { Job, QueueEvents } from 'bullmq';
import { listenForLocalFinish, type LocalJobRef } from './local-finish.ts';

export type JobOutcome<R> = { done: true; result: R } | { done: false };

/** How a wait finds out its job is gone from Redis: asked every `everyMs`. */
export interface VanishCheck {
  everyMs: number;
  gone(jobId: string): Promise<boolean>;
}

/** The job's end heard within this process (local-finish.ts), besides QueueEvents. */
export interface LocalFinishWait<R> {
  /** The Redis URL of the queue's owner: with the job's queue and id, which job in this process. */
  redisUrl: string;
  /** The job function has its result, not yet stored by BullMQ: get the answer ready, do not send it. */
  onReturned?(result: R): void;
}

/**
 * Waits up to waitMs for `job`; { done: false } when it is still running (or `stop` fired: a
 * shutting-down API answers 202 rather than holding requests). `graceMs` past waitMs also bounds
 * waitUntilFinished's own readiness waits when Redis is gone. Whatever ended the wait, `peek` (the
 * job's state) decides what a finish without a result means: still running, or failed.
 */
export async function waitForJob<R>(
  job: Job,
  events: QueueEvents,
  waitMs: number,
  graceMs: number,
  stop: AbortSignal | undefined,
  peek: (jobId: string) => Promise<JobOutcome<R>>,
  vanish?: VanishCheck,
  local?: LocalFinishWait<R>,
): Promise<JobOutcome<R>> {
  if (waitMs <= 0 || stop?.aborted) return peek(job.id!);
  let onStop: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let checker: NodeJS.Timeout | undefined;
  const giveUp = new Promise<undefined>((resolve) => {
    onStop = () => resolve(undefined);
    stop?.addEventListener('abort', onStop, { once: true });
    timer = setTimeout(() => resolve(undefined), waitMs + graceMs);
    // A job Redis lost (restarted empty) sends no event: without a look now and then the wait lasts all of waitMs.
    if (vanish) {
      checker = setInterval(() => {
        void vanish.gone(job.id!).then((gone) => gone && resolve(undefined), () => undefined);
      }, vanish.everyMs);
    }
  });
  // A worker of this process stored the job's end: known now, without the QueueEvents hop.
  let stopLocal: (() => void) | undefined;
  const localCompleted = new Promise<{ result: R } | undefined>((resolve) => {
    if (!local) return;
    const ref: LocalJobRef = { redisUrl: local.redisUrl, queue: job.queueQualifiedName, jobId: job.id! };
    stopLocal = listenForLocalFinish(ref, (moment, result) => {
      if (moment === 'completed') resolve({ result: result as R });
      else local.onReturned?.(result as R);
    });
  });
  const fromEvents = job.waitUntilFinished(events, waitMs).then(
    (result: R) => ({ result }),
    // Timed out or failed: the job's state tells which (and a dead Redis answers 503 there).
    () => undefined,
  );
  try {
    const outcome = await Promise.race([fromEvents, localCompleted, giveUp]);
    if (outcome) return { done: true, result: outcome.result };
    return await peek(job.id!);
  } finally {
    clearTimeout(timer);
    clearInterval(checker);
    stopLocal?.();
    if (onStop) stop?.removeEventListener('abort', onStop);
  }
}
