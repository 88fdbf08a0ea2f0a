/**
 * Loads a NativeObject, turning failures into LbcErrors: fentry/fexit refused by a kernel without
 * BPF trampolines → LBC_ERR_ATTACH_UNSUPPORTED naming tp_btf / raw_tp; LSM programs refused →
 * LBC_ERR_LSM_UNAVAILABLE where BPF LSM is not active (else as fentry); anything else (the verifier
 * above all) → LBC_ERR_LOAD with the verifier log's tail in the message and the whole log in details.
 */
import { LbcError } from '@lbc/contract';
import type { NativeMapInfo, NativeObject, NativeProgramInfo } from '../native/types.ts';
import { failedMapName, mapCreateError } from './map-create-error.ts';
import { asNativeError, errnoName } from './native-error.ts';
import { logTail, verifierLog } from './verifier-log.ts';
import { activeLsms, lsmRefusal, BPF_PROG_TYPE_LSM } from './lsm-support.ts';
import { kprobeMultiLoadRefusal } from './multi-probes.ts';

const BPF_PROG_TYPE_TRACING = 26;
const BPF_PROG_TYPE_EXT = 28;
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
    throw loadError(err, object.programs(), name, object.maps());
  }
}

export function loadError(err: unknown, programs: NativeProgramInfo[], objectName: string, maps: NativeMapInfo[] = []): LbcError {
  const native = asNativeError(err);
  const output = native.log ?? '';
  const mapName = failedMapName(output);
  const map = mapName === undefined ? undefined : maps.find((m) => m.name === mapName);
  if (map) return mapCreateError(map, native.errno, objectName, output, err);
  const missing = missingTarget(output, programs);
  if (missing) return missingTargetError(missing.prog, missing.target, native.errno, objectName, output, err);
  const failed = failedProgram(output, programs);
  const log = verifierLog(output);

  if (failed && failed.type === BPF_PROG_TYPE_EXT && !log && REFUSAL_ERRNOS.has(native.errno ?? 0)) {
    return new LbcError(
      'LBC_ERR_ATTACH_UNSUPPORTED',
      `${objectName}: program ${failed.name} (SEC("${failed.section}")) is freplace, which this kernel refuses (${errnoName(native.errno)} at load: ` +
        'no BPF trampoline support). Call the function from the program itself, or choose the code path with a constant set before load.',
      { object: objectName, prog: failed.name, section: failed.section, kind: 'freplace', errno: native.errno },
      { cause: err },
    );
  }

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

  const tooOld = failed && kprobeMultiLoadRefusal(failed, objectName, native.errno, err);
  if (tooOld) return tooOld;

  const tail = logTail(log || output);
  const who = failed ? `program ${failed.name} (SEC("${failed.section}"))` : objectName;
  return new LbcError(
    'LBC_ERR_LOAD',
    `${who}: ${errnoName(native.errno)}${log ? ' (the verifier rejected it)' : ''}${tail ? `\n${tail}` : ''}`,
    { object: objectName, prog: failed?.name, errno: native.errno, errnoName: errnoName(native.errno), verifierLog: log || undefined, libbpfLog: output || undefined },
    { cause: err },
  );
}

/** libbpf, before the kernel sees the program: "prog 'NAME': failed to find kernel BTF type ID of 'FUNC': -3" (ESRCH). */
function missingTarget(output: string, programs: NativeProgramInfo[]): { prog: NativeProgramInfo; target: string } | undefined {
  const m = /prog '([^']+)': failed to find kernel BTF type ID of '([^']+)'/.exec(output);
  const prog = m ? programs.find((p) => p.name === m[1]) : undefined;
  return prog ? { prog, target: m![2]! } : undefined;
}

function missingTargetError(prog: NativeProgramInfo, target: string, errno: number | undefined, objectName: string, output: string, cause: unknown): LbcError {
  const kind = prog.section.split('/')[0]!;
  const what = kind.startsWith('tp_btf') ? 'a BTF tracepoint' : 'a function';
  return new LbcError(
    'LBC_ERR_KERNEL_FUNCTION_MISSING',
    `${objectName}: program ${prog.name} (SEC("${prog.section}")): ${target} is not ${what} of this kernel (its BTF has no ${target}; libbpf: ${errnoName(errno)}). ` +
      `Check the name with \`lbc func ${target}\`, or set lbc.programs.${prog.name}.attachTarget to one this kernel has before load.`,
    { object: objectName, prog: prog.name, section: prog.section, function: target, errno, errnoName: errnoName(errno), libbpfLog: output || undefined },
    { cause },
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
  const trampolines = programs.filter((p) => isTrampoline(p) || p.type === BPF_PROG_TYPE_EXT);
  return trampolines.length === 1 ? trampolines[0] : undefined;
}
