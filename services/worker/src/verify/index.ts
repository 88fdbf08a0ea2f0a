/** The kernel lab's verify, guest side: verifyInGuest for the verify service, LAB_VERSION for its verdict cache. */
export { verifyInGuest, GUEST_DEFAULTS, type VerifyInGuestInput, type GuestVerdict, type GuestStage } from './verify-in-guest.ts';
export { LAB_VERSION } from './lab-runner.ts';
export { MAX_WORKLOAD_REPEAT } from './guest-plan.ts';
