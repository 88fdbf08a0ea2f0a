/**
 * Checks on a compile request beyond its JSON schema: byte limits, include paths, the cflags
 * allow-list, and the source policy (forbidden includes and constructs).
 */
import { compileSizeError, validateCflags, validateIncludePaths, type CompileRequest, type Limits } from '@lbc/contract';

export type SourceScanner = (files: Record<string, string>) => void;

export interface ValidatedCompile {
  name: string;
  source: string;
  includes: Record<string, string>;
  cflags: string[];
}

export function validateCompileRequest(req: CompileRequest, limits: Limits, scanSource: SourceScanner): ValidatedCompile {
  // The same size checks the client makes before sending.
  const oversize = compileSizeError(req, limits);
  if (oversize) throw oversize;
  const includes = req.includes ?? {};
  const cflags = req.cflags ?? [];
  validateIncludePaths(Object.keys(includes), `${req.name}.bpf.c`);
  validateCflags(cflags);
  scanSource({ [`${req.name}.bpf.c`]: req.source, ...includes });
  return { name: req.name, source: req.source, includes, cflags };
}
