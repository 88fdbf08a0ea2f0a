/**
 * What the verify worker needs of the kernel lab: a function that boots one kernel in the sandbox,
 * loads the object with the client's setup, attaches every program, runs the workload and says
 * what happened (verify/ holds the lab's own; tests and other labs may bring theirs), and the lab's
 * version, part of every verdict's cache key.
 */
import type { Arch, KernelVerdict, VerifySetup, VerifyWorkload } from '@lbc/contract';

export interface GuestInput {
  arch: Arch;
  /** Path of the kernel's boot image (vmlinuz, arm64 Image) on this host. */
  bootImage: string;
  object: Buffer;
  setup?: VerifySetup;
  workload?: VerifyWorkload;
  timeoutMs?: number;
  onProgress?: (progress: unknown) => void;
}

export type GuestVerdict = Omit<KernelVerdict, 'kernel' | 'cached' | 'objectSha256'>;

export interface GuestLab {
  run(input: GuestInput): Promise<GuestVerdict>;
  version: string;
}
