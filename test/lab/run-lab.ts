/**
 * Boots lab kernels with the base image and run archive of their architecture, at most two at once
 * (this host's two cores; each guest is one vCPU), and returns each kernel's check records by name.
 * arm64 guests run Debian trixie's arm64 node (test-support/src/arm64-node.ts).
 */
import type { Arch } from '@lbc/contract';
import { baseGuestImage, bootGuest, mapBounded, type GuestRun, type LabKernel } from '@lbc/core/lab';
import { arm64NodeRoot } from '@lbc/test-support/arm64-node';

export interface CheckRecord {
  check: string;
  ok: boolean;
  atMs: number;
  error?: { code?: string; message: string };
  [field: string]: unknown;
}

export interface KernelRun {
  kernel: LabKernel;
  /** Absent when the guest failed (error): one kernel's failure leaves the others' results. */
  run?: GuestRun;
  error?: Error;
  checks: Map<string, CheckRecord>;
}

export const GUESTS_AT_ONCE = 2;

/** `append`: kernel arguments added to the lab's own for every guest of this call (e.g. an lsm= list). */
export async function bootLabKernels(kernels: readonly LabKernel[], payloads: Partial<Record<Arch, string>>, timeoutMs = 150_000, append?: string): Promise<KernelRun[]> {
  const bases: Partial<Record<Arch, string>> = {};
  if (kernels.some((k) => k.arch === 'x86_64')) bases.x86_64 = baseGuestImage();
  if (kernels.some((k) => k.arch === 'aarch64')) bases.aarch64 = baseGuestImage({ arch: 'aarch64', foreignNodeRoot: await arm64NodeRoot() });
  return mapBounded(kernels, GUESTS_AT_ONCE, async (kernel) => {
    const checks = new Map<string, CheckRecord>();
    try {
      const payload = payloads[kernel.arch];
      if (!payload) throw new Error(`no run archive for ${kernel.arch}`);
      const run = await bootGuest({ kernel, initrds: [bases[kernel.arch]!, payload], timeoutMs, append });
      for (const r of run.records as CheckRecord[]) checks.set(r.check, r);
      return { kernel, run, checks };
    } catch (error) {
      return { kernel, error: error as Error, checks };
    }
  });
}
