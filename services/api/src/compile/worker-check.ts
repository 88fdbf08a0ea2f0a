/**
 * Before queueing a compile: if workers are alive but none of them can run it (their Docker engine
 * is gone, or they carry another compile image), answer 503 now rather than queue into a dead
 * farm. With no worker alive at all the job is queued: a worker starting later takes it.
 */
import { LbcError } from '@lbc/contract';
import { liveWorkers, type RedisOwner } from '@lbc/core';

export async function assertWorkersCanCompile(redis: RedisOwner, toolchain: string): Promise<void> {
  const workers = await redis.guard(liveWorkers(redis.command), 'reading the worker registry');
  if (workers.length === 0) return;
  const sameToolchain = workers.filter((w) => w.toolchain === toolchain);
  if (sameToolchain.some((w) => w.dockerOk)) return;
  if (sameToolchain.length === 0) {
    throw new LbcError('LBC_ERR_SANDBOX_UNAVAILABLE', `${workers.length} worker(s) alive, none with this API's compile image (${toolchain})`, {
      workers: workers.length,
      toolchains: [...new Set(workers.map((w) => w.toolchain))],
    });
  }
  throw new LbcError('LBC_ERR_SANDBOX_UNAVAILABLE', `${sameToolchain.length} worker(s) alive, none can reach its Docker engine`, {
    workers: sameToolchain.map((w) => w.host),
  });
}
