/**
 * A worker killed with SIGKILL leaves its warm containers and job directories behind. Each
 * container is labelled with its owner's host and pid; at start, those of dead owners on this host
 * are removed.
 */
import { hostname } from 'node:os';
import { resolve, sep } from 'node:path';
import type Dockerode from 'dockerode';
import { LABEL_HOST, LABEL_JOB_DIR, LABEL_PID, LABEL_ROLE } from './hardening.ts';
import { removeJobDir } from './job-dir.ts';
import { processAlive } from '../owner-alive.ts';

/** Returns how many containers were removed. Job dirs are removed only under `jobsDir`. */
export async function removeLeftovers(docker: Dockerode, jobsDir: string): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters: { label: [LABEL_ROLE, `${LABEL_HOST}=${hostname()}`] } });
  let removed = 0;
  for (const info of containers) {
    const pid = Number(info.Labels[LABEL_PID]);
    if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    await docker.getContainer(info.Id).remove({ force: true }).catch(() => {});
    removed++;
    const jobDir = info.Labels[LABEL_JOB_DIR];
    if (jobDir && resolve(jobDir).startsWith(resolve(jobsDir) + sep)) await removeJobDir(jobDir);
  }
  return removed;
}
