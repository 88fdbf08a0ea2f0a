/**
 * lbc.h as compile containers see it (/lbc, read-only). The engine resolves bind mounts on ITS
 * host, so the directory must exist there: a worker running in a container (compose, Kubernetes)
 * shares only its data directory with the host, at the same path. The header is therefore copied
 * under the data directory, in a directory named by its hash (a new lbc.h never changes a
 * directory a running container mounts).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LBC_HEADER_DIR, lbcHeaderSha256 } from '@lbc/core';

export function publishHeaderDir(dataDir: string): string {
  const dir = join(dataDir, 'include', lbcHeaderSha256().slice(0, 16));
  if (existsSync(join(dir, 'lbc.h'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o755 });
  for (const file of readdirSync(LBC_HEADER_DIR)) copyFileSync(join(LBC_HEADER_DIR, file), join(tmp, file));
  try {
    renameSync(tmp, dir);
  } catch (err) {
    // Another worker on this data directory published it first.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, 'lbc.h'))) throw err;
  }
  return dir;
}
