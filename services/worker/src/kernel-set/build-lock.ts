/**
 * A lock file shared by worker processes on one host, so one kernel set is built once. A lock whose
 * owner process is gone (kill -9) is taken over.
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ownerGone, pidNamespace } from '@lbc/core';

async function staleLock(path: string): Promise<boolean> {
  const text = await fs.readFile(path, 'utf8').catch(() => '');
  const [host, pid, namespace] = text.split(' ');
  if (!host || !pid) return false;
  return host === hostname() && ownerGone(Number(pid), namespace);
}

export async function withBuildLock<T>(path: string, work: () => Promise<T>, waitMs = 600_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await fs.writeFile(path, `${hostname()} ${process.pid} ${pidNamespace()}`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await staleLock(path)) {
        await fs.rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
      await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    await fs.rm(path, { force: true });
  }
}
