/**
 * Whether a process on this host still lives: the owner of a trace run (named in a tracefs instance,
 * a probe group or a lock file) and, on the farm, the owner of a lock or a container
 * (services/core's owner-alive.ts, through lbc-client/internal/process). One copy for both.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
