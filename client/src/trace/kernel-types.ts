/**
 * The kernel types a trace line resolves against: this machine's /sys/kernel/btf/vmlinux, or with
 * --kernel ID a kernel the farm knows (its raw BTF from GET /v1/kernels/:sha256/btf), so one-liners
 * can be translated for machines that have no debug info of their own.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { LbcError, type Arch, type KernelInfo } from '@lbc/contract';
import { parseBtf, type Btf } from '@lbc/btf';
import { KERNEL_BTF_PATH, normalizeArch } from '../target/detect-target.ts';
import type { ServiceClient } from '../transport/service-client.ts';

export interface KernelTypes {
  btf: Btf;
  arch: Arch;
  /** What the types describe, for messages: "this kernel (6.18.0)" or "6.1.0-50-cloud-amd64 x86_64 (ab12cd34ef56)". */
  origin: string;
  /** True for the running kernel: tracefs, kallsyms and events can be checked. */
  local: boolean;
}

export function localKernelTypes(btfPath = KERNEL_BTF_PATH): KernelTypes {
  if (!existsSync(btfPath)) {
    throw new LbcError('LBC_ERR_KERNEL_DETECT', `${btfPath} does not exist: this kernel has no BTF; translate with --kernel ID for a kernel the service knows`);
  }
  const arch = normalizeArch(os.machine()) ?? normalizeArch(process.arch) ?? 'x86_64';
  // Parsed on first use: trace events alone never need the kernel's types (0.6 s of start-up here).
  let btf: Btf | undefined;
  return {
    get btf() {
      return (btf ??= parseBtf(readFileSync(btfPath)));
    },
    arch,
    origin: `this kernel (${os.release()})`,
    local: true,
  };
}

/** ID is a BTF sha256 (or a unique prefix of one, 8+ characters) or a release string. */
export function pickKernel(kernels: KernelInfo[], id: string): KernelInfo {
  const bySha = id.length >= 8 ? kernels.filter((k) => k.btfSha256.startsWith(id.toLowerCase())) : [];
  const matches = bySha.length ? bySha : kernels.filter((k) => k.release === id);
  if (matches.length === 1) return matches[0]!;
  const known = kernels.map((k) => ({ btfSha256: k.btfSha256, release: k.release, arch: k.arch, distro: k.distro }));
  const why = matches.length ? `'${id}' matches ${matches.length} kernels: give the BTF sha256` : `no kernel '${id}' (a BTF sha256 or a release)`;
  throw new LbcError('LBC_ERR_KERNEL_UNKNOWN', `${why}; lbc kernels lists them`, { suggestions: matches.length ? matches : known.slice(0, 5) });
}

export async function farmKernelTypes(client: ServiceClient, id: string): Promise<KernelTypes> {
  const kernel = pickKernel(await client.listKernels(), id);
  const raw = await client.fetchVerified(`/v1/kernels/${kernel.btfSha256}/btf`, kernel.btfSha256, 'btf');
  return {
    btf: parseBtf(raw),
    arch: kernel.arch,
    origin: `${kernel.release} ${kernel.arch} (${kernel.btfSha256.slice(0, 12)})`,
    local: false,
  };
}
