/**
 * A worker killed with SIGKILL leaves its warm containers and job directories behind. Each
 * container is labelled with its owner's host, pid namespace and pid; at start and now and then,
 * those of owners known dead on this host are removed.
 */
import { hostname } from 'node:os';
import { resolve, sep } from 'node:path';
import type Dockerode from 'dockerode';
import { LABEL_HOST, LABEL_JOB_DIR, LABEL_PID, LABEL_PIDNS, LABEL_ROLE } from './hardening.ts';
import { removeJobDir } from './job-dir.ts';
import { ownerGone } from '@lbc/core';

/** Returns how many containers were removed. Job dirs are removed only under `jobsDir`. */
export async function removeLeftovers(docker: Dockerode, jobsDir: string): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters: { label: [LABEL_ROLE, `${LABEL_HOST}=${hostname()}`] } });
  let removed = 0;
  for (const info of containers) {
    // A worker in another pid namespace (a container on this engine) is not ours to judge: its
    // containers, in use or not, look ownerless from here. Nor is one that did not record its
    // namespace (an older worker).
    const namespace = info.Labels[LABEL_PIDNS];
    if (namespace === undefined || !ownerGone(Number(info.Labels[LABEL_PID]), namespace)) continue;
    await docker.getContainer(info.Id).remove({ force: true }).catch(() => {});
    removed++;
    const jobDir = info.Labels[LABEL_JOB_DIR];
    if (jobDir && resolve(jobDir).startsWith(resolve(jobsDir) + sep)) await removeJobDir(jobDir);
  }
  return removed;
}
