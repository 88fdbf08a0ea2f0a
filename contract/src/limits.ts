import type { CompileRequest, Limits } from './api.ts';
import { LbcError } from './errors.ts';

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

/**
 * The size limits of a compile request (GET /v1/limits), checked the same way by the service and,
 * before sending, by the client: a request over them is LBC_ERR_BODY_TOO_LARGE naming the field
 * and the limit, never a connection cut while the client is still sending.
 */
export function compileSizeError(req: Pick<CompileRequest, 'source' | 'includes' | 'cflags'>, limits: Limits): LbcError | null {
  const sourceBytes = Buffer.byteLength(req.source, 'utf8');
  if (sourceBytes > limits.maxSourceBytes) return tooLarge('source', sourceBytes, limits.maxSourceBytes);
  const includes = req.includes ?? {};
  const paths = Object.keys(includes);
  if (paths.length > limits.maxIncludes) {
    return new LbcError('LBC_ERR_BODY_TOO_LARGE', `${paths.length} includes, the limit is ${limits.maxIncludes}`, { field: 'includes', limit: limits.maxIncludes });
  }
  let includeBytes = 0;
  for (const path of paths) includeBytes += Buffer.byteLength(includes[path]!, 'utf8');
  if (includeBytes > limits.maxIncludeBytes) return tooLarge('includes', includeBytes, limits.maxIncludeBytes);
  const cflags = req.cflags ?? [];
  if (cflags.length > limits.maxCflags) {
    return new LbcError('LBC_ERR_BAD_REQUEST', `${cflags.length} cflags, the limit is ${limits.maxCflags}`, { field: 'cflags', limit: limits.maxCflags });
  }
  return null;
}

const tooLarge = (what: string, size: number, limit: number) =>
  new LbcError('LBC_ERR_BODY_TOO_LARGE', `${what} is ${size} bytes, the limit is ${limit}`, { field: what, size, limit });
