/** The kernel lab's verify, guest side: verifyInGuest for the verify service, LAB_VERSION for its verdict cache. */
export { verifyInGuest, verifyEachInGuest, GUEST_DEFAULTS, GUEST_KERNEL_ARGS, type VerifyInGuestInput, type GuestVerdict, type GuestStage } from './verify-in-guest.ts';
export { LAB_VERSION } from './lab-runner.ts';
export { MAX_WORKLOAD_REPEAT } from './guest-plan.ts';
export { sandboxedQemu, LAB_IMAGE, LAB_ROLE, DEFAULT_GUEST_LIMITS, type GuestSandbox } from './guest-sandbox.ts';
