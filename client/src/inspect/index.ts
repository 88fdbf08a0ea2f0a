export { KernelView, inspectError, type ObjectKind } from './kernel-view.ts';
export { inspectPrograms, inspectProgram, type InspectedProgram, type InspectedProgramDetail } from './inspect-programs.ts';
export { inspectMaps, inspectMap, dumpMap, type InspectedMap, type InspectedMapDetail, type MapDump } from './inspect-maps.ts';
export { inspectLinks, type InspectedLink } from './inspect-links.ts';
export { describeTarget, NOT_REPORTED, type ProgramTarget } from './attach-targets.ts';
export { measureRunStats, statsSysctlOn, type RunStats, type RunStatsDelta } from './run-stats.ts';
export { scanPins, bpffsMounts, fdinfoKey, type PinIndex } from './pinned-paths.ts';
