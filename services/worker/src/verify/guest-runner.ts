/**
 * What the verify worker needs of the kernel lab: a function that boots one kernel in the sandbox,
 * loads the object with the client's setup, attaches every program, runs the workload and says
 * what happened (verify/ holds the lab's own; tests and other labs may bring theirs), and the lab's
 * version, part of every verdict's cache key. The input and verdict are verifyInGuest's, less where
 * QEMU runs, which the one who builds the lab decides.
 */
import type { GuestVerdict, VerifyInGuestInput } from './index.ts';

export type GuestInput = Omit<VerifyInGuestInput, 'sandbox'>;

export interface GuestLab {
  run(input: GuestInput): Promise<GuestVerdict>;
  version: string;
}
