import type { Limits } from './api.ts';

/** Defaults; the service may lower or raise them by configuration and publishes them at /v1/limits. */
export const DEFAULT_LIMITS: Limits = {
  maxSourceBytes: 512 * 1024,
  maxIncludes: 64,
  maxIncludeBytes: 2 * 1024 * 1024,
  maxCflags: 64,
  maxBtfBytes: 64 * 1024 * 1024,
  maxWaitMs: 120_000,
  maxArtifactBytes: 16 * 1024 * 1024,
};

export const ARCHES = ['x86_64', 'aarch64'] as const;

/** Program names become file names in diagnostics: keep them plain. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;
/** Relative include paths: plain segments, no "..", no leading "/". */
export const INCLUDE_PATH_PATTERN = /^(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9_.+-]+(\/[A-Za-z0-9_.+-]+)*$/;
