export { tracepointExists, kprobeExists, kprobeFunctions, kprobeFunctionsIn, fentryCanAttach, probeTpBtf } from './kernel-probes.ts';
