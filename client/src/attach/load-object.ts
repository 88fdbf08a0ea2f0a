/**
 * Loads a NativeObject, turning failures into LbcErrors: fentry/fexit refused by a kernel without
 * BPF trampolines → LBC_ERR_ATTACH_UNSUPPORTED naming tp_btf / raw_tp; LSM programs refused →
 * LBC_ERR_LSM_UNAVAILABLE where BPF LSM is not active (else as fentry); anything else (the verifier
 * above all) → LBC_ERR_LOAD with the verifier log's tail in the message and the whole log in details.
 */
import { LbcError } from '@lbc/contract';
import type { NativeObject, NativeProgramInfo } from '../native/types.ts';
import { asNativeError, errnoName } from './native-error.ts';
import { logTail, verifierLog } from './verifier-log.ts';
import { activeLsms, lsmRefusal, BPF_PROG_TYPE_LSM } from './lsm-support.ts';

const BPF_PROG_TYPE_TRACING = 26;
const TRAMPOLINE_ATTACH_TYPES = new Map([
  [24, 'fentry'],
  [25, 'fexit'],
  [26, 'fmod_ret'],
]);
// How a kernel without trampolines refuses them: EPERM here; ENOTSUPP (524) or EOPNOTSUPP elsewhere.
const REFUSAL_ERRNOS = new Set([1, 95, 524]);

export function loadObject(object: NativeObject, name: string): void {
  try {
    object.load();
  } catch (err) {
    throw loadError(err, object.programs(), name);
  }
}

export function loadError(err: unknown, programs: NativeProgramInfo[], objectName: string): LbcError {
  const native = asNativeError(err);
  const output = native.log ?? '';
  const failed = failedProgram(output, programs);
  const log = verifierLog(output);

  if (failed && isTrampoline(failed) && !log && REFUSAL_ERRNOS.has(native.errno ?? 0)) {
    const kind = TRAMPOLINE_ATTACH_TYPES.get(failed.attachType);
    return new LbcError(
      'LBC_ERR_ATTACH_UNSUPPORTED',
      `${objectName}: program ${failed.name} (SEC("${failed.section}")) is ${kind}, which this kernel refuses (${errnoName(native.errno)} at load: ` +
        'no BPF trampoline support). Use SEC("tp_btf/<tracepoint>") or SEC("raw_tp/<tracepoint>") on a tracepoint near the function instead.',
      { object: objectName, prog: failed.name, section: failed.section, kind, errno: native.errno, alternatives: ['tp_btf', 'raw_tp'] },
      { cause: err },
    );
  }

  if (failed && failed.type === BPF_PROG_TYPE_LSM && !log && REFUSAL_ERRNOS.has(native.errno ?? 0)) {
    return lsmRefusal(failed, objectName, native.errno, activeLsms(), err);
  }

  const tail = logTail(log || output);
  const who = failed ? `program ${failed.name} (SEC("${failed.section}"))` : objectName;
  return new LbcError(
    'LBC_ERR_LOAD',
    `${who}: ${errnoName(native.errno)}${log ? ' (the verifier rejected it)' : ''}${tail ? `\n${tail}` : ''}`,
    { object: objectName, prog: failed?.name, errno: native.errno, errnoName: errnoName(native.errno), verifierLog: log || undefined, libbpfLog: output || undefined },
    { cause: err },
  );
}

function isTrampoline(prog: NativeProgramInfo): boolean {
  return prog.type === BPF_PROG_TYPE_TRACING && TRAMPOLINE_ATTACH_TYPES.has(prog.attachType);
}

/** libbpf names the program it failed on: "prog 'NAME': failed to load". */
function failedProgram(output: string, programs: NativeProgramInfo[]): NativeProgramInfo | undefined {
  const named = /prog '([^']+)': (?:BPF program load failed|failed to load)/.exec(output)?.[1];
  if (named) return programs.find((p) => p.name === named);
  // Some failures are not attributed; a lone trampoline program is still the likely culprit.
  const trampolines = programs.filter(isTrampoline);
  return trampolines.length === 1 ? trampolines[0] : undefined;
}
