/**
 * A kernel whose BTF the toolchain cannot turn into a kernel set (bpftool failing, or spinning until
 * its CPU limit on a type loop) fails the same way every time: the failure is remembered per kernel
 * and toolchain, so later compiles are refused at once with its cause instead of starting the
 * tool again. Written by the worker that saw it, read by every API node before queueing
 * (REDIS_KEYS.kernelSetFailure).
 */
import type { Redis } from 'ioredis';
import { LbcError, type ErrorCode } from '@lbc/contract';
import { redisKey } from '../redis/redis-keys.ts';
import { toolchainShort } from '../compile/toolchain.ts';

const key = (btfSha256: string, toolchain: string) => redisKey.kernelSetFailure(btfSha256, toolchainShort(toolchain));
const REMEMBERED_SECONDS = 30 * 86_400;

/** The failures a BTF itself causes: the tool refused it (BTF_INVALID) or hit a limit on it (KERNEL_SET_FAILED). */
export type KernelSetFailureCode = Extract<ErrorCode, 'LBC_ERR_BTF_INVALID' | 'LBC_ERR_KERNEL_SET_FAILED'>;

export async function rememberKernelSetFailure(redis: Redis, btfSha256: string, toolchain: string, message: string, code: KernelSetFailureCode = 'LBC_ERR_KERNEL_SET_FAILED'): Promise<void> {
  await redis.set(key(btfSha256, toolchain), JSON.stringify({ code, message }), 'EX', REMEMBERED_SECONDS);
}

/** The remembered failure as the error to answer with, or null. */
export async function kernelSetFailure(redis: Redis, btfSha256: string, toolchain: string): Promise<LbcError | null> {
  const raw = await redis.get(key(btfSha256, toolchain));
  if (!raw) return null;
  const { code, message } = JSON.parse(raw) as { code?: KernelSetFailureCode; message: string };
  return new LbcError(code ?? 'LBC_ERR_KERNEL_SET_FAILED', message, { btfSha256, remembered: true });
}
