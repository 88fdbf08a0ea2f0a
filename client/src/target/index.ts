export { detectTarget, wireTarget, normalizeArch, parseOsReleaseId, btfSha256Of, KERNEL_BTF_PATH, type DetectedTarget } from './detect-target.ts';
export { compileForTarget, type TargetCompileOutcome } from './compile-for-target.ts';
export { fetchServiceBtf } from './service-btf.ts';
