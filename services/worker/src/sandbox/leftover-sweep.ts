/**
 * Containers and job directories that workers which died on this host left behind: removed at
 * start, and again now and then, because a request a dead worker sent just before dying can still
 * create a container afterwards.
 */
import type Dockerode from 'dockerode';
import { removeLeftovers } from './leftovers.ts';

export async function startLeftoverSweep(docker: Dockerode, jobsDir: string, everyMs = 60_000): Promise<{ stop(): void }> {
  await removeLeftovers(docker, jobsDir);
  const sweep = setInterval(() => void removeLeftovers(docker, jobsDir).catch(() => {}), everyMs);
  sweep.unref();
  return { stop: () => clearInterval(sweep) };
}
