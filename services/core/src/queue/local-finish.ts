/**
 * A job's end told within one process, for the all-in-one farm (API and worker in one process):
 * the API's wait for a job its own worker runs hears of it from the worker directly, not through
 * Redis (the QueueEvents stream: one more hop after BullMQ has stored the end). Two moments:
 * `returned` when the job function has its result (BullMQ has not stored it yet: the API may get
 * the answer ready, not send it) and `completed` when BullMQ has stored it (the worker's own
 * 'completed' event). An API whose jobs run elsewhere hears neither and waits on QueueEvents as
 * before; both paths stay, whichever is first ends the wait.
 *
 * Jobs are named by the Redis they live in as well as queue and id: two farms in one process (tests)
 * may have jobs of one id (a cache key) in different Redis servers.
 */
export type LocalFinishMoment = 'returned' | 'completed';

export interface LocalJobRef {
  /** The Redis URL of the queue's owner (RedisOwner.url). */
  redisUrl: string;
  /** BullMQ's prefix:name of the queue. */
  queue: string;
  jobId: string;
}

type Listener = (moment: LocalFinishMoment, result: unknown) => void;

const listeners = new Map<string, Set<Listener>>();

const keyOf = (ref: LocalJobRef) => `${ref.redisUrl}\n${ref.queue}\n${ref.jobId}`;

/** Listens for the job's end in this process; returns the function that stops listening. */
export function listenForLocalFinish(ref: LocalJobRef, listener: Listener): () => void {
  const key = keyOf(ref);
  let set = listeners.get(key);
  if (!set) listeners.set(key, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && listeners.get(key) === set) listeners.delete(key);
  };
}

/**
 * Tells this process's waiters of the job (none: nothing to do). The result as Redis would hand it
 * back (a JSON copy), so that no waiter shares an object with the worker or another waiter.
 */
export function announceLocalFinish(ref: LocalJobRef, moment: LocalFinishMoment, result: unknown): void {
  const set = listeners.get(keyOf(ref));
  if (!set || set.size === 0) return;
  const json = JSON.stringify(result ?? null);
  for (const listener of [...set]) listener(moment, JSON.parse(json));
}
