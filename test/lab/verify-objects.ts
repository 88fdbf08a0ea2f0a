/**
 * Objects for the verify tests, compiled by the farm for each lab kernel through the client's own
 * code (new Lbc with the kernel as its target, not loaded), each into a cache of its own so that
 * its bytes are the one object there.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LabKernel } from '@lbc/core/lab';
import { Lbc } from 'lbc-client';
import { btfSha256Of } from '../../client/src/target/index.ts';

export const VERIFY_PROGRAMS_DIR = resolve(import.meta.dirname, 'verify-programs');

export async function compileObject(server: string, kernel: LabKernel, name: string, cwd: string, scratch: string): Promise<Buffer> {
  const cacheDir = join(scratch, `${kernel.id}-${name}`);
  mkdirSync(cacheDir, { recursive: true });
  const target = { release: kernel.release, arch: kernel.arch, distro: 'debian', btfSha256: btfSha256Of(kernel.btfPath), btfPath: kernel.btfPath };
  const lbc = await new Lbc(name, undefined, { cwd, server, cacheDir, target, load: false, fallbacks: false }).ready;
  lbc.close();
  const objects = readdirSync(join(cacheDir, 'objects'));
  if (objects.length !== 1) throw new Error(`${name} for ${kernel.id}: expected one cached object, found ${objects.length}`);
  return readFileSync(join(cacheDir, 'objects', objects[0]!));
}
