/**
 * The sweep of dead workers' containers removes only what it can judge: an owner in this pid
 * namespace that is gone. A worker in another pid namespace on the same engine (a container with
 * the host's socket and, with host networking, its hostname) sees every host pid as dead; it once
 * removed the containers of live workers, compiles in flight included (they died with SIGKILL).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE } from '@lbc/core';
import { removeLeftovers } from '../src/sandbox/leftovers.ts';
import { ownerLabels } from '../src/sandbox/warm-pool.ts';
import { LABEL_PID, LABEL_PIDNS } from '../src/sandbox/hardening.ts';
import { pidNamespace } from '@lbc/core';

const REPO = resolve(import.meta.dirname, '..', '..', '..');
const docker = new Dockerode();
const role = `leftovers-test-${process.pid}`;
let jobsDir: string;

const create = async (labels: Record<string, string>) => (await docker.createContainer({ Image: DEFAULT_IMAGE, Cmd: ['true'], Labels: { ...ownerLabels(role), ...labels } })).id;
const exists = async (id: string) => (await docker.listContainers({ all: true, filters: { id: [id] } })).length === 1;
/** A pid that was in use a moment ago and is free now. */
const deadPid = () => spawnSync('true').pid!;

beforeAll(() => {
  jobsDir = mkdtempSync(join(tmpdir(), 'lbc-leftovers-'));
});
afterAll(async () => {
  for (const c of await docker.listContainers({ all: true, filters: { label: [`lbc.role=${role}`] } })) await docker.getContainer(c.Id).remove({ force: true });
  rmSync(jobsDir, { recursive: true, force: true });
});

describe('the leftover sweep', () => {
  it('removes a dead owner\'s containers in its pid namespace, and keeps live owners\' and other namespaces\'', async () => {
    expect(pidNamespace()).toMatch(/^pid:\[\d+\]$/);
    const dead = await create({ [LABEL_PID]: String(deadPid()) });
    const live = await create({ [LABEL_PID]: String(process.ppid) });
    const foreign = await create({ [LABEL_PID]: String(deadPid()), [LABEL_PIDNS]: 'pid:[1]' });
    // From a worker that did not record its namespace: cannot be judged either.
    const unrecorded = (await docker.createContainer({ Image: DEFAULT_IMAGE, Cmd: ['true'], Labels: { 'lbc.role': role, 'lbc.owner.host': hostname(), [LABEL_PID]: String(deadPid()) } })).id;

    await removeLeftovers(docker, jobsDir);
    expect(await exists(dead)).toBe(false);
    expect(await exists(live)).toBe(true);
    expect(await exists(foreign)).toBe(true);
    expect(await exists(unrecorded)).toBe(true);
  });

  it('a sweep run in another pid namespace leaves a live worker\'s containers alone', async () => {
    // Owned by this (live) process; from inside a new pid namespace its pid names nothing.
    const mine = await create({});
    const out = execFileSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '--import', 'tsx', 'services/worker/test/leftovers-child.ts'], {
      cwd: REPO,
      env: { ...process.env, LBC_JOBS_DIR: jobsDir },
      encoding: 'utf8',
    });
    expect(out.trim()).toMatch(/^\d+$/);
    expect(await exists(mine)).toBe(true);
  });
});
