export { Lbc } from './lbc.ts';
export type { LbcOptions } from './lbc-options.ts';
export type { Phase as LbcPhase } from './lifecycle/object-lifecycle.ts';
export { LbcError, isLbcError, type ErrorCode } from '@lbc/contract';
// The HTTP client (undici) is imported on a cache miss only; import ServiceClient from ./transport/index.ts directly.
export { resolveServer } from './transport/server-url.ts';
export { detectTarget, type DetectedTarget } from './target/index.ts';
export { resolveCacheDir } from './cache/cache-dir.ts';
export { ObjectCache } from './cache/object-cache.ts';
export { LbcMap, RecordBatch, formatLog2Hist, formatLog10Hist, type HistScale, type LbcMaps, type StackFrame, type EventCallback, type EventSubscription, type BatchCallback, type RecordVisitor } from './maps/index.ts';
export type { GlobalVars } from './globals/index.ts';
export {
  LbcProgram,
  planFallbacks,
  findTwins,
  probeKernelFeatures,
  type LbcPrograms,
  type FallbackDecision,
  type KernelFeatures,
  type ProgramFacts,
  type EventBufferChoice,
  type EventBufferNames,
} from './programs/index.ts';
export { PERF_TYPE, HW_BREAKPOINT, type PerfEventAttr, type PylccPerfEventAttr, type PerfEventScope } from './attach/index.ts';
export {
  inspectPrograms,
  inspectProgram,
  inspectMaps,
  inspectMap,
  dumpMap,
  inspectLinks,
  measureRunStats,
  describeTarget,
  KernelView,
  type InspectedProgram,
  type InspectedProgramDetail,
  type InspectedMap,
  type InspectedMapDetail,
  type InspectedLink,
  type MapDump,
  type ProgramTarget,
  type RunStatsDelta,
} from './inspect/index.ts';
export { ksyms, parseKsyms, type Ksym, type Ksyms } from './symbols/ksyms-api.ts';
export { tracepointExists, kprobeExists, kprobeFunctions, fentryCanAttach, probeTpBtf } from './probes/index.ts';
