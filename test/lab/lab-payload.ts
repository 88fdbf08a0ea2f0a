/**
 * What the host prepares before the guests boot: every lab program compiled by the farm for every
 * lab kernel (through the client's own code: new Lbc with the kernel as target, not loaded), left in
 * one client cache that the guests read offline (LBC_CACHE); the client; the checks script.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Arch } from '@lbc/contract';
import { GuestRoot, GUEST_MARKER, mapBounded, type LabKernel } from '@lbc/core/lab';
import { Lbc } from 'lbc-client';
import { btfSha256Of } from '../../client/src/target/index.ts';
import { addGuestClient } from './guest-client.ts';

export const LAB_PROGRAMS_DIR = resolve(import.meta.dirname, 'programs');
const CHECKS_SCRIPT = resolve(import.meta.dirname, 'guest/checks.mjs');

export function labProgramNames(): string[] {
  return readdirSync(LAB_PROGRAMS_DIR)
    .filter((f) => f.endsWith('.bpf.c'))
    .map((f) => f.replace(/\.bpf\.c$/, ''))
    .sort();
}

/** Compiles each program for each kernel into `cacheDir` (the farm learns each kernel's BTF on the way). */
export async function compileForLab(server: string, kernels: readonly LabKernel[], cacheDir: string, programs = labProgramNames(), programsDir = LAB_PROGRAMS_DIR): Promise<void> {
  // Two kernels at once: the farm's default worker concurrency.
  await mapBounded(kernels, 2, async (kernel) => {
    const target = { release: kernel.release, arch: kernel.arch, distro: 'debian', btfSha256: btfSha256Of(kernel.btfPath), btfPath: kernel.btfPath };
    for (const name of programs) {
      const lbc = await new Lbc(name, undefined, { cwd: programsDir, server, cacheDir, target, load: false, fallbacks: false }).ready;
      lbc.close();
    }
  });
}

/**
 * The run archive: /lab/run starts the checks with the cache, the programs' sources (the cache key
 * covers them) and the client with the addon for `arch`. `checks`: names from guest/checks.mjs,
 * run in order in one boot. `programsDir`: where the programs' sources are (guest path /lab/progs);
 * `script`: another checks script (test/lab/guest/*.mjs) in place of guest/checks.mjs.
 */
export async function writeLabPayload(
  path: string,
  cacheDir: string,
  checks: readonly string[],
  arch: Arch = 'x86_64',
  { programsDir = LAB_PROGRAMS_DIR, script = CHECKS_SCRIPT }: { programsDir?: string; script?: string } = {},
): Promise<void> {
  const root = new GuestRoot();
  await addGuestClient(root, arch);
  root.addHostTree(programsDir, '/lab/progs');
  root.addHostTree(cacheDir, '/lab/cache');
  root.addHostFile(script, '/lab/checks.mjs', 0o644);
  root.addText(
    '/lab/run',
    `#!/bin/sh\ncd /lab\nexport LBC_CACHE=/lab/cache LBC_LAB_RECORD='${GUEST_MARKER.record}'\nexec node /lab/checks.mjs ${checks.join(' ')}\n`,
    0o755,
  );
  root.writeCpio(path);
}
