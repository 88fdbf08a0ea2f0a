/**
 * Attaching loaded programs: by section name or by hand, with kernel failures translated into
 * LbcErrors that say what the kernel lacks and what to use instead.
 */
export { loadObject, loadError } from './load-object.ts';
export { attachBySection, autoAttach, type AutoAttachResult } from './auto-attach.ts';
export { attachKprobe, attachKretprobe, attachUprobe, attachUretprobe, uprobeLocation, type UprobeLocation } from './probes.ts';
export { attachTracepoint, attachRawTracepoint, attachTrace } from './tracepoints.ts';
export { attachPerfEvent, attachPerfEventAllCpus, onlineCpus, normalizeAttr, PERF_TYPE, HW_BREAKPOINT, type PerfEventAttr, type PylccPerfEventAttr, type PerfEventScope } from './perf-events.ts';
export { attachXdp, attachCgroup, attachNetns } from './network.ts';
export { attachIter, iterLink, ITER_SECTION, type IterOptions, type IterLink } from './iterators.ts';
export { attachSocket, openPacketSocket, type SocketTarget, type PacketSocket } from './sockets.ts';
export { attachTc, type TcOptions, type TcLink } from './tc.ts';
export { attachUsdt } from './usdt.ts';
export { attachLsm, activeLsms, lsmRefusal } from './lsm-support.ts';
export { attachKprobeMulti, attachUprobeMulti, type MultiProbeOptions } from './multi-probes.ts';
export { attachStructOps } from './struct-ops.ts';
export { methodFor, requireKind } from './program-kind.ts';
export { kprobesAvailable } from './kernel-support.ts';
export { verifierLog, logTail } from './verifier-log.ts';
