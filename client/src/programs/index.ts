/** Programs of an object and the kernel-driven choices made before load (twins, event buffers). */
export { LbcProgram, type ProgramState } from './lbc-program.ts';
export { programList, findProgram, type LbcPrograms } from './program-list.ts';
export { probeKernelFeatures, type KernelFeatures } from './kernel-features.ts';
export { planFallbacks, findTwins, type FallbackDecision, type ProgramFacts } from './fallbacks.ts';
export { chooseEventBuffer, perfEventArraySetup, type EventBufferChoice, type EventBufferNames, type EventBufferTarget } from './event-buffer.ts';
