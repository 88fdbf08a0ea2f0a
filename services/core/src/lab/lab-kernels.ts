/**
 * The lab's kernels: lab-kernels.txt names them, scripts/lab-setup.sh downloads each once into the
 * lab directory (kernels/<id>/vmlinuz, btf, release, arch). This module only reads what is there.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { LbcError, type Arch } from '@lbc/contract';

export interface LabKernel {
  /** The manifest's id, e.g. bookworm-6.1. */
  id: string;
  arch: Arch;
  /** `uname -r` inside the guest, from the package name. */
  release: string;
  /** The boot image (bzImage on x86_64). */
  vmlinuz: string;
  /** The raw .BTF of the kernel: the bytes the guest shows as /sys/kernel/btf/vmlinux. */
  btfPath: string;
  /** The Debian package it came from (file name). */
  packageFile: string;
}

export const LAB_SETUP_COMMAND = 'bash scripts/lab-setup.sh';

const MANIFEST = join(import.meta.dirname, 'lab-kernels.txt');

/** LBC_LAB_DIR, else $XDG_CACHE_HOME/lbc-lab, else ~/.cache/lbc-lab (lab-setup.sh resolves it alike). */
export function resolveLabDir(): string {
  if (process.env.LBC_LAB_DIR) return process.env.LBC_LAB_DIR;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(os.homedir(), '.cache'), 'lbc-lab');
}

export interface LabKernelSpec {
  id: string;
  arch: Arch;
  /** Debian suites searched, the release first. */
  suites: string[];
  /** The package series, as a glob: linux-image-6.1.0-*-cloud-amd64 (the newest is fetched). */
  packageSeries: string;
}

/** The kernels the manifest lists, in its order. */
export function labKernelSpecs(): LabKernelSpec[] {
  return readFileSync(MANIFEST, 'utf8')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .map((line) => {
      const [id, arch, ...rest] = line.trim().split(/\s+/);
      const pattern = rest.pop()!;
      const packageSeries = pattern.replace(/^\^|\$$/g, '').replace(/\[0-9\]\+/g, '*').replace(/\\(.)/g, '$1');
      return { id: id!, arch: arch as Arch, suites: rest, packageSeries };
    });
}

/** Every manifest kernel (or those named), or LBC_ERR_LAB_NOT_SET_UP naming what is missing and how to get it. */
export function requireLabKernels(ids?: readonly string[], labDir = resolveLabDir()): LabKernel[] {
  const known = labKernelSpecs();
  const wanted = ids ?? known.map((k) => k.id);
  const unknown = wanted.filter((id) => !known.some((k) => k.id === id));
  if (unknown.length > 0) {
    throw new LbcError('LBC_ERR_LAB_NOT_SET_UP', `no lab kernel ${unknown.join(', ')} (the lab has ${known.map((k) => k.id).join(', ')})`);
  }
  const kernels: LabKernel[] = [];
  const missing: string[] = [];
  for (const id of wanted) {
    const dir = join(labDir, 'kernels', id);
    const files = ['vmlinuz', 'btf', 'release', 'arch', 'package'].map((f) => join(dir, f));
    if (!files.every((f) => existsSync(f))) {
      missing.push(id);
      continue;
    }
    const read = (f: string) => readFileSync(join(dir, f), 'utf8').trim();
    kernels.push({ id, arch: read('arch') as Arch, release: read('release'), vmlinuz: join(dir, 'vmlinuz'), btfPath: join(dir, 'btf'), packageFile: read('package') });
  }
  if (missing.length > 0) {
    throw new LbcError('LBC_ERR_LAB_NOT_SET_UP', `${missing.join(', ')} missing from ${labDir}; run ${LAB_SETUP_COMMAND}`, { labDir, missing });
  }
  return kernels;
}
