export { Lbc } from './lbc.ts';
export type { LbcOptions } from './lbc-options.ts';
export { LbcError, isLbcError, type ErrorCode } from '@lbc/contract';
export { ServiceClient, resolveServer, type ServiceClientOptions } from './transport/index.ts';
export { detectTarget, type DetectedTarget } from './target/index.ts';
export { resolveCacheDir, ObjectCache } from './cache/index.ts';
export { LbcMap, formatLog2Hist, type LbcMaps, type StackFrame, type EventCallback, type EventSubscription } from './maps/index.ts';
