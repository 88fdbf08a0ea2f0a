/**
 * Checks on a compile request beyond its JSON schema: byte limits, include paths, the cflags
 * allow-list, and the source policy (forbidden includes and constructs).
 */
import { LbcError, validateCflags, validateIncludePaths, type CompileRequest, type Limits } from '@lbc/contract';

export type SourceScanner = (files: Record<string, string>) => void;

export interface ValidatedCompile {
  name: string;
  source: string;
  includes: Record<string, string>;
  cflags: string[];
}

const tooLarge = (what: string, size: number, limit: number) =>
  new LbcError('LBC_ERR_BODY_TOO_LARGE', `${what} is ${size} bytes, the limit is ${limit}`, { field: what, size, limit });

export function validateCompileRequest(req: CompileRequest, limits: Limits, scanSource: SourceScanner): ValidatedCompile {
  const sourceBytes = Buffer.byteLength(req.source, 'utf8');
  if (sourceBytes > limits.maxSourceBytes) throw tooLarge('source', sourceBytes, limits.maxSourceBytes);
  const includes = req.includes ?? {};
  const paths = Object.keys(includes);
  if (paths.length > limits.maxIncludes) {
    throw new LbcError('LBC_ERR_BODY_TOO_LARGE', `${paths.length} includes, the limit is ${limits.maxIncludes}`, { field: 'includes', limit: limits.maxIncludes });
  }
  validateIncludePaths(paths, `${req.name}.bpf.c`);
  let includeBytes = 0;
  for (const path of paths) includeBytes += Buffer.byteLength(includes[path]!, 'utf8');
  if (includeBytes > limits.maxIncludeBytes) throw tooLarge('includes', includeBytes, limits.maxIncludeBytes);
  const cflags = req.cflags ?? [];
  if (cflags.length > limits.maxCflags) {
    throw new LbcError('LBC_ERR_BAD_REQUEST', `${cflags.length} cflags, the limit is ${limits.maxCflags}`, { field: 'cflags', limit: limits.maxCflags });
  }
  validateCflags(cflags);
  scanSource({ [`${req.name}.bpf.c`]: req.source, ...includes });
  return { name: req.name, source: req.source, includes, cflags };
}
