export { detectTarget, wireTarget, normalizeArch, parseOsReleaseId, btfSha256Of, KERNEL_BTF_PATH, type DetectedTarget } from './detect-target.ts';
