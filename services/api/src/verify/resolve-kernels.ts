/**
 * The kernels a verify request names: each by BTF sha256, unique prefix or release (as the catalog
 * and `lbc struct --kernel` resolve them), or every bootable kernel set. Each must be bootable; one
 * that is not is LBC_ERR_KERNEL_NOT_BOOTABLE naming how to make it so and the kernels that are.
 */
import { LbcError, type KernelInfo, type VerifyKernelRef, type VerifyRequest } from '@lbc/contract';
import type { KernelRegistry } from '@lbc/core';

export const kernelRef = (k: KernelInfo): VerifyKernelRef => ({ btfSha256: k.btfSha256, release: k.release, arch: k.arch, distro: k.distro });

export function resolveVerifyKernels(req: VerifyRequest, registry: KernelRegistry): KernelInfo[] {
  const all = registry.list();
  const bootable = all.filter((k) => k.bootable && k.answersForRelease !== false);
  if (req.allBootable) {
    if (bootable.length === 0) {
      throw new LbcError('LBC_ERR_KERNEL_NOT_BOOTABLE', `the service has no bootable kernel (of ${all.length} kernel sets)`, { bootable: [] });
    }
    // One per BTF, oldest release first reads like a matrix.
    return [...bootable].sort((a, b) => a.arch.localeCompare(b.arch) || a.release.localeCompare(b.release, undefined, { numeric: true }));
  }
  const seen = new Set<string>();
  const kernels: KernelInfo[] = [];
  for (const id of req.kernels ?? []) {
    const kernel = registry.resolveId(id);
    if (!kernel.bootable) {
      throw new LbcError(
        'LBC_ERR_KERNEL_NOT_BOOTABLE',
        `${kernel.release} ${kernel.arch} (${kernel.btfSha256.slice(0, 12)}, source ${kernel.source}) has no boot image; ingest its linux-image package to make it bootable${
          bootable.length ? `; bootable: ${bootable.map((k) => `${k.release} ${k.arch}`).join(', ')}` : '; the service has no bootable kernel yet'
        }`,
        { kernel: kernelRef(kernel), requested: id, bootable: bootable.map(kernelRef) },
      );
    }
    if (seen.has(kernel.btfSha256)) continue;
    seen.add(kernel.btfSha256);
    kernels.push(kernel);
  }
  return kernels;
}
