/**
 * Ends a one-shot command as soon as what it printed is out: once its answer is written nothing
 * else is owed to anyone, and waiting for the event loop to empty (keep-alive sockets closing, timers,
 * the heap torn down) cost `lbc compile` several ms of every cache hit. stdout and stderr are
 * synchronous on files, terminals and Linux pipes; elsewhere (a pipe on macOS) their queued bytes
 * are drained first. The exit code is process.exitCode, as a natural exit would have it.
 */
export function exitWhenFlushed(): void {
  const pending = [process.stdout, process.stderr].filter((stream) => stream.writableLength > 0);
  if (pending.length === 0) process.exit();
  let left = pending.length;
  for (const stream of pending) {
    stream.once('drain', () => {
      if (--left === 0) process.exit();
    });
  }
}
