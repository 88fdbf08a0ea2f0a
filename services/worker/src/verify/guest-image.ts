/**
 * A verify guest's initramfs, three archives the kernel unpacks in turn: the lab's busybox base
 * (cached per host, services/core/src/lab), the runner (cached beside its binary) and the run's
 * own: the object, the plan and /lab/run. A few MB in all, uncompressed: the kernel copies it
 * without a decompressor, which under TCG is the fast way.
 */
import { existsSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Arch } from '@lbc/contract';
import { GuestRoot, baseGuestImage } from '@lbc/core/lab';
import { labRunner } from './lab-runner.ts';

export const GUEST_RUNNER = '/lab/lbc-lab-runner';
export const GUEST_OBJECT = '/lab/object.bpf.o';
export const GUEST_PLAN = '/lab/plan';

/** The base and runner archives for `arch` (built once), then the run's archive written into `dir`. */
export async function verifyInitrds(arch: Arch, object: Buffer, plan: string, dir: string): Promise<string[]> {
  const base = baseGuestImage({ node: false, arch });
  const runner = await labRunner(arch);
  const runnerArchive = join(dirname(runner), 'runner.cpio');
  if (!existsSync(runnerArchive)) {
    const partial = `${runnerArchive}.${process.pid}.tmp`;
    new GuestRoot().addHostFile(runner, GUEST_RUNNER, 0o755).writeCpio(partial);
    renameSync(partial, runnerArchive);
  }
  const run = join(dir, 'run.cpio');
  new GuestRoot()
    .addText(GUEST_OBJECT, object)
    .addText(GUEST_PLAN, plan)
    .addText('/lab/run', `#!/bin/sh\nexec ${GUEST_RUNNER} ${GUEST_OBJECT} ${GUEST_PLAN}\n`, 0o755)
    .writeCpio(run);
  return [base, runnerArchive, run];
}
