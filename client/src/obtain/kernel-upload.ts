/**
 * This machine's kernel for the catalog commands: identified by the sha256 of its BTF, and uploaded
 * to a service that does not know it yet, telling the user so on stderr (it is megabytes, once).
 */
import { readFileSync } from 'node:fs';
import { LbcError, isLbcError } from '@lbc/contract';
import { KERNEL_BTF_PATH, detectTarget, type DetectedTarget } from '../target/detect-target.ts';

/** Where this machine's BTF is read from instead of /sys/kernel/btf/vmlinux (a kernel whose BTF lives elsewhere). */
export const KERNEL_BTF_ENV = 'LBC_KERNEL_BTF';

export interface ThisKernel extends DetectedTarget {
  btfSha256: string;
  btfPath: string;
}

const unreadable = (path: string, why: string, cause?: unknown) =>
  new LbcError('LBC_ERR_KERNEL_BTF_UNREADABLE', `${path}: ${why}`, { path }, cause === undefined ? undefined : { cause });

function readBtf(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw unreadable(path, (err as Error).message, err);
  }
}

export function thisKernel(env: NodeJS.ProcessEnv = process.env): ThisKernel {
  const btfPath = env[KERNEL_BTF_ENV] || KERNEL_BTF_PATH;
  let target: DetectedTarget;
  try {
    target = detectTarget({ btfPath });
  } catch (err) {
    if (isLbcError(err)) throw err;
    throw unreadable(btfPath, (err as Error).message, err);
  }
  if (!target.btfSha256 || !target.btfPath) {
    const why = btfPath === KERNEL_BTF_PATH ? `no such file: kernel ${target.release} was built without BTF (CONFIG_DEBUG_INFO_BTF)` : `no such file (from ${KERNEL_BTF_ENV})`;
    throw unreadable(btfPath, why);
  }
  return { ...target, btfSha256: target.btfSha256, btfPath: target.btfPath };
}

export const describeKernel = (k: ThisKernel) => `${k.release} ${k.arch}, BTF ${k.btfSha256.slice(0, 12)}`;

export interface KernelUploader {
  readonly server: string;
  uploadKernel(sha256: string, btf: Buffer, query: { release: string; arch: DetectedTarget['arch']; distro?: string }): Promise<unknown>;
}

/**
 * Uploads the kernel's BTF, with a notice before and after. A refusal keeps the service's code and
 * says what was being attempted; details.upload marks it for the CLI's extra advice.
 */
export async function uploadThisKernel(service: KernelUploader, kernel: ThisKernel, notice: (line: string) => void): Promise<void> {
  const btf = readBtf(kernel.btfPath);
  notice(`lbc: ${service.server} does not know this kernel (${describeKernel(kernel)}): uploading its BTF (${(btf.length / 1048576).toFixed(1)} MB), once`);
  try {
    await service.uploadKernel(kernel.btfSha256, btf, { release: kernel.release, arch: kernel.arch, ...(kernel.distro ? { distro: kernel.distro } : {}) });
  } catch (err) {
    if (!isLbcError(err) || err.status === 0) throw err;
    const refused = new LbcError(err.code, undefined, { ...err.details, upload: { btfSha256: kernel.btfSha256, release: kernel.release, arch: kernel.arch } }, { cause: err });
    refused.message = `${err.message} (the service refused the upload of this kernel's BTF: ${describeKernel(kernel)})`;
    throw refused;
  }
  notice('lbc: uploaded; the service indexes a new kernel once (a few seconds)');
}
