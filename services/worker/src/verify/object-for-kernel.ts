/**
 * The object the farm compiles for a kernel, as `lbc compile` would get it: from the API's cache
 * (published by sha256 in the farm blob store when the job was queued), else through the compile queue itself
 * (its job id is the compile cache key's, so a compile of the same program for the same kernel,
 * asked by anyone, is one job; any worker runs it, cross-compiling for arm64 as for every compile).
 */
import { LbcError, jobIdFor, type ErrorBody } from '@lbc/contract';
import type { HeaderMode } from '@lbc/contract';
import type { CompileProducer, FarmBlobs, VerifyJobData, VerifyKernelTask } from '@lbc/core';

export type KernelObject = { ok: true; bytes: Buffer; sha256: string; compileJobId?: string } | { ok: false; error: ErrorBody['error'] };

export interface ObjectSources {
  compiles: CompileProducer;
  blobs: FarmBlobs;
  compileTimeoutMs: number;
}

export async function objectForKernel(sources: ObjectSources, data: VerifyJobData, task: VerifyKernelTask): Promise<KernelObject> {
  if (task.objectSha256) {
    const published = await sources.blobs.get(task.objectSha256).catch(() => null);
    if (published) return { ok: true, bytes: published, sha256: task.objectSha256 };
  }
  try {
    const first = await compileFor(sources, data, task, task.compileCacheKey, task.header.btfSha256, task.header.mode);
    // A CO-RE program that names a field the newest header renamed: its own header, as POST /v1/compile does.
    if (!first.ok && first.error.code === 'LBC_ERR_COMPILE' && task.ownHeader) {
      return await compileFor(sources, data, task, task.ownHeader.compileCacheKey, task.ownHeader.btfSha256, 'kernel');
    }
    return first;
  } catch (err) {
    // The compile's own failure (a kernel set that cannot be built, a sandbox fault after retries) is this kernel's verdict.
    // Redis gone is the farm's fault, not the kernel's: the verify job is tried again.
    if (err instanceof LbcError && err.code !== 'LBC_ERR_QUEUE_UNAVAILABLE') return { ok: false, error: err.toBody().error };
    throw err;
  }
}

/** One compile through the compile queue: the object, or the compile's own failure. */
async function compileFor(sources: ObjectSources, data: VerifyJobData, task: VerifyKernelTask, cacheKey: string, headerSha256: string, mode: HeaderMode): Promise<KernelObject> {
  const job = await sources.compiles.submit({
    cacheKey,
    name: data.name,
    source: data.source,
    includes: data.includes,
    cflags: data.cflags,
    btfSha256: headerSha256,
    arch: task.kernel.arch,
    header: { mode, target: task.kernel.btfSha256 },
    toolchain: data.toolchain,
    ...(data.requestId ? { requestId: data.requestId } : {}),
    ...(data.tenant ? { tenant: data.tenant } : {}),
  });
  const outcome = await sources.compiles.wait(job, sources.compileTimeoutMs);
  if (!outcome.done) throw new LbcError('LBC_ERR_COMPILE_LIMIT', `the compile for ${task.kernel.release} did not finish within ${sources.compileTimeoutMs} ms`);
  const result = outcome.result;
  if (!result.ok) {
    const firstError = result.diagnostics.split('\n').find((l) => /\berror\b/.test(l)) ?? result.diagnostics.split('\n')[0] ?? '';
    return { ok: false, error: new LbcError(result.code, firstError.trim() || undefined, { diagnostics: result.diagnostics }).toBody().error };
  }
  // Verified against its hash by the blob store; gone only if every node holding it is.
  const bytes = await sources.blobs.get(result.sha256);
  if (!bytes) throw new LbcError('LBC_ERR_INTERNAL', `the compile job's object ${result.sha256} is in no node's blob store`);
  return { ok: true, bytes, sha256: result.sha256, compileJobId: jobIdFor(cacheKey) };
}
