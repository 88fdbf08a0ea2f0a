import { readFileSync } from 'node:fs';
import { isLbcError, type CompileRequest, type CompileResult } from '@lbc/contract';
import type { CompileOptions, ServiceClient } from '../transport/service-client.ts';
import { wireTarget, type DetectedTarget } from '../target/detect-target.ts';

export interface TargetCompileOutcome {
  result: CompileResult;
  /** True when this call had to upload the kernel's BTF first. */
  uploadedBtf: boolean;
}

/**
 * Compiles for a detected target. A service that does not know this kernel gets its BTF uploaded
 * once, and the compile is retried; a kernel without local BTF cannot be uploaded, so that error stands.
 */
export async function compileForTarget(
  client: ServiceClient,
  req: Omit<CompileRequest, 'target'>,
  target: DetectedTarget,
  options: CompileOptions = {},
): Promise<TargetCompileOutcome> {
  const full: CompileRequest = { ...req, target: wireTarget(target) };
  try {
    return { result: await client.compile(full, options), uploadedBtf: false };
  } catch (err) {
    if (!isLbcError(err, 'LBC_ERR_KERNEL_UNKNOWN') || !target.btfPath || !target.btfSha256 || !target.arch) throw err;
  }
  await client.uploadKernel(target.btfSha256, readFileSync(target.btfPath), {
    release: target.release,
    arch: target.arch,
    ...(target.distro ? { distro: target.distro } : {}),
  });
  return { result: await client.compile(full, options), uploadedBtf: true };
}
