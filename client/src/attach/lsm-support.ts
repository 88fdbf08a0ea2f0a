/**
 * BPF LSM programs (SEC("lsm/...")) run only where the kernel has CONFIG_BPF_LSM and "bpf" is in
 * the active LSM list (the lsm= boot parameter, else CONFIG_LSM), which securityfs shows in
 * /sys/kernel/security/lsm. Like fentry, they also need BPF trampolines.
 */
import { readFileSync } from 'node:fs';
import { LbcError } from '@lbc/contract';
import type { NativeLink, NativeObject, NativeProgramInfo } from '../native/types.ts';
import { attachError } from './attach-errors.ts';
import { asNativeError, errnoName } from './native-error.ts';
import { requireProgram } from './program-lookup.ts';
import { requireKind } from './program-kind.ts';

export const BPF_PROG_TYPE_LSM = 29;
const LSM_LIST = '/sys/kernel/security/lsm';

/** The active LSMs in order, or undefined when securityfs is not mounted (or unreadable). */
export function activeLsms(path = LSM_LIST): string[] | undefined {
  try {
    return readFileSync(path, 'utf8').trim().split(',').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Why an LSM program this kernel refused (EPERM, ENOTSUPP ...) cannot run here, in words. */
export function lsmRefusal(prog: NativeProgramInfo, objectName: string, errno: number | undefined, lsms: string[] | undefined, cause?: unknown, stage: 'load' | 'attach' = 'load'): LbcError {
  const who = `${objectName}: program ${prog.name} (SEC("${prog.section}"))`;
  const details = { object: objectName, prog: prog.name, section: prog.section, errno, activeLsms: lsms };
  const options = cause === undefined ? undefined : { cause };
  if (lsms === undefined) {
    return new LbcError(
      'LBC_ERR_LSM_UNAVAILABLE',
      `${who} was refused (${errnoName(errno)}), and the active LSM list cannot be read to tell why: securityfs is not mounted ` +
        `(mount -t securityfs securityfs /sys/kernel/security, then see ${LSM_LIST}: "bpf" must be in it).`,
      details,
      options,
    );
  }
  if (!lsms.includes('bpf')) {
    return new LbcError(
      'LBC_ERR_LSM_UNAVAILABLE',
      `${who}: this kernel does not run BPF LSM programs: its active LSMs are ${lsms.join(',') || 'none'}, without "bpf" ` +
        `(boot with lsm=${[...lsms, 'bpf'].join(',')}, on a kernel built with CONFIG_BPF_LSM=y).`,
      details,
      options,
    );
  }
  return new LbcError(
    'LBC_ERR_ATTACH_UNSUPPORTED',
    `${who}: BPF LSM is active here (${lsms.join(',')}), but this kernel refuses LSM programs at ${stage} (${errnoName(errno)}: no BPF trampoline ` +
      'support, as for fentry). Observe the hook with a tracepoint or tp_btf program instead, or run it on a kernel with trampolines.',
    { ...details, alternatives: ['tp_btf', 'raw_tp'] },
    options,
  );
}

export const LSM_SECTION = /^lsm(\.s)?\//;
const REFUSALS = new Set([1, 95, 524]);

/** SEC("lsm/HOOK"): attaches to the hook its section names (bpf_program__attach_lsm). */
export function attachLsm(object: NativeObject, prog: string): NativeLink {
  const info = requireProgram(object, prog);
  requireKind(info, LSM_SECTION, 'attachLsm()', 'BPF LSM program');
  // Linux 5.10 built with CONFIG_BPF_LSM loads and attaches LSM programs while "bpf" is not among
  // its active LSMs, and never runs them (measured in the kernel lab): refuse instead of a silent no-op.
  const lsms = activeLsms();
  if (lsms && !lsms.includes('bpf')) throw lsmRefusal(info, prog, undefined, lsms);
  try {
    return object.attachTrace(prog);
  } catch (err) {
    const errno = asNativeError(err).errno;
    // arm64 6.1 loads them and refuses the trampoline at attach (ENOTSUPP), measured in the kernel lab.
    if (REFUSALS.has(errno ?? 0)) throw lsmRefusal(info, prog, errno, activeLsms(), err, 'attach');
    throw attachError(err, { prog, kind: 'lsm', target: `SEC("${info.section}")` });
  }
}
