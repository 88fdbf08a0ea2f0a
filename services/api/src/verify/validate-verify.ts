/**
 * Checks on a verify request beyond its JSON schema: what a compile checks (sizes, include names,
 * the cflags allow-list, the source policy), which kernels (exactly one of `kernels` and
 * `allBootable`), and the bounds of its setup and workload.
 */
import { LbcError, VERIFY_LIMITS, type CompileRequest, type Limits, type VerifyRequest } from '@lbc/contract';
import { validateCompileRequest, type SourceScanner, type ValidatedCompile } from '../compile/validate-request.ts';

const bad = (field: string, why: string): never => {
  throw new LbcError('LBC_ERR_BAD_REQUEST', `${field}: ${why}`, { field });
};

export function validateVerifyRequest(req: VerifyRequest, limits: Limits, scanSource: SourceScanner): ValidatedCompile {
  const input = validateCompileRequest(req as unknown as CompileRequest, limits, scanSource);
  const named = req.kernels?.length ?? 0;
  if (named > 0 && req.allBootable) bad('body/kernels', 'give either kernels or allBootable, not both');
  if (named === 0 && !req.allBootable) bad('body/kernels', 'name at least one kernel (BTF sha256, prefix or release), or set allBootable');
  if (named > VERIFY_LIMITS.maxKernels) bad('body/kernels', `at most ${VERIFY_LIMITS.maxKernels} kernels a request`);
  for (const field of ['globals', 'autoload', 'maxEntries', 'twins'] as const) {
    const record = req.setup?.[field];
    if (record && Object.keys(record).length > VERIFY_LIMITS.maxSetupEntries) bad(`body/setup/${field}`, `at most ${VERIFY_LIMITS.maxSetupEntries} names`);
  }
  const command = req.workload?.command;
  if (command) {
    if (command.length === 0) bad('body/workload/command', 'give the command to run, e.g. ["cat", "/etc/hostname"]');
    if (command.length > VERIFY_LIMITS.maxWorkloadArgs) bad('body/workload/command', `at most ${VERIFY_LIMITS.maxWorkloadArgs} arguments`);
    if (command.some((a) => Buffer.byteLength(a) > VERIFY_LIMITS.maxWorkloadArgBytes || a.includes('\0'))) {
      bad('body/workload/command', `each argument at most ${VERIFY_LIMITS.maxWorkloadArgBytes} bytes, without NUL`);
    }
  }
  return input;
}
