/**
 * POST /v1/verify: will this program load, attach and run on those kernels? The farm compiles it as
 * it would for each kernel, boots each (bootable kernel sets, under QEMU in the worker's sandbox),
 * loads the object with the setup a client would apply and attaches every program. The shapes are
 * the types of their JSON schemas in verify-schemas.ts.
 */
import type { Static } from '@sinclair/typebox';
import type * as S from './verify-schemas.ts';

/** What the client would set on the opened object before load (as `new Lbc(name, src, options)` does). */
export type VerifySetup = Static<typeof S.VerifySetupSchema>;
/** Something the guest runs while the programs are attached, so that they fire. */
export type VerifyWorkload = Static<typeof S.VerifyWorkloadSchema>;
export type VerifyRequest = Static<typeof S.VerifyRequestSchema>;
export type ProgramVerdict = Static<typeof S.ProgramVerdictSchema>;
export type MapVerdict = Static<typeof S.MapVerdictSchema>;
export type VerifyKernelRef = Static<typeof S.VerifyKernelRefSchema>;
export type KernelVerdict = Static<typeof S.KernelVerdictSchema>;
export type VerifyResult = Static<typeof S.VerifyResultSchema>;
export type VerifyProgress = Static<typeof S.VerifyProgressSchema>;
/** GET /v1/verify/:id and the 202 answer's job. */
export type VerifyJobStatus = Static<typeof S.VerifyJobStatusSchema>;
/** 202 answer of POST /v1/verify: the job to follow (GET url). */
export type VerifyAccepted = Static<typeof S.VerifyAcceptedSchema>;

/** Bounds on a verify request beyond the compile limits it shares. */
export const VERIFY_LIMITS = {
  /** Kernels named in one request (allBootable takes every bootable one, however many). */
  maxKernels: 32,
  /** Names in each setup record (globals, autoload, maxEntries, twins). */
  maxSetupEntries: 256,
  /** Arguments of the workload command, and bytes of each. */
  maxWorkloadArgs: 32,
  maxWorkloadArgBytes: 4096,
  maxRepeat: 1000,
} as const;
