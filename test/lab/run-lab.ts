/**
 * Boots lab kernels with the shared base image and one run archive, at most two at once (this
 * host's two cores; each guest is one vCPU), and returns each kernel's check records by name.
 */
import { baseGuestImage, bootGuest, mapBounded, type GuestRun, type LabKernel } from '@lbc/core/lab';

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

export async function bootLabKernels(kernels: readonly LabKernel[], payload: string, timeoutMs = 150_000): Promise<KernelRun[]> {
  const base = baseGuestImage();
  return mapBounded(kernels, GUESTS_AT_ONCE, async (kernel) => {
    const checks = new Map<string, CheckRecord>();
    try {
      const run = await bootGuest({ kernel, initrds: [base, payload], timeoutMs });
      for (const r of run.records as CheckRecord[]) checks.set(r.check, r);
      return { kernel, run, checks };
    } catch (error) {
      return { kernel, error: error as Error, checks };
    }
  });
}
