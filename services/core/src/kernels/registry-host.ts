/**
 * The machine's own kernel, registered at first start so the service compiles for its host out
 * of the box: BTF from /sys/kernel/btf/vmlinux, release from uname, distro from /etc/os-release.
 */
import { readFileSync } from 'node:fs';
import { arch as nodeArch, release as osRelease } from 'node:os';
import type { Arch, KernelInfo } from '@lbc/contract';
import type { KernelRegistry } from './registry.ts';

export const HOST_BTF_PATH = '/sys/kernel/btf/vmlinux';

export function hostArch(): Arch | null {
  const map: Record<string, Arch> = { x64: 'x86_64', arm64: 'aarch64' };
  return map[nodeArch()] ?? null;
}

/** ID= of /etc/os-release ("debian"), '' when unknown. */
export function hostDistro(osReleaseText?: string): string {
  let text = osReleaseText;
  if (text === undefined) {
    try {
      text = readFileSync('/etc/os-release', 'utf8');
    } catch {
      return '';
    }
  }
  const m = /^ID=("?)([^"\n]*)\1$/m.exec(text);
  return m ? m[2]! : '';
}

/** Registers the host kernel; null when the host has no BTF or an unsupported arch. */
export async function registerHostKernel(registry: KernelRegistry, btfPath = HOST_BTF_PATH): Promise<KernelInfo | null> {
  const arch = hostArch();
  if (!arch) return null;
  let btf: Buffer;
  try {
    btf = readFileSync(btfPath);
  } catch {
    return null;
  }
  const { kernel } = await registry.register({ btf, release: osRelease(), arch, distro: hostDistro(), source: 'host' });
  return kernel;
}
