/**
 * Probe lines → what tracefs needs: the kprobe_events/uprobe_events definition, the event's
 * directory, its filter. Pure given its inputs, so translations can be checked without running them.
 */
import { ERRORS, isLbcError, type Arch } from '@lbc/contract';
import type { Btf } from '@lbc/btf';
import type { ProbeSpec } from './ast.ts';
import { resolveArg, type FunctionProto, type ResolvedArg } from './resolve-arg.ts';
import { didYouMean, traceError } from './trace-error.ts';
import { translateFilter } from './translate-filter.ts';
import type { Conversion } from './value-conversions.ts';

export interface ProbePlan {
  spec: ProbeSpec;
  /** events/<system>/<event> in the instance. */
  system: string;
  event: string;
  /** For p/r/P/R: the line written to kprobe_events or uprobe_events. */
  definition?: { file: 'kprobe_events' | 'uprobe_events'; text: string };
  filter?: string;
  args: ResolvedArg[];
  conversions: Record<string, Conversion>;
}

export interface TranslateEnv {
  arch: Arch;
  kernelBtf: Btf;
  /** The dynamic-event group of this run (lbc_<pid>). */
  group: string;
  /** Kernel symbols (kallsyms) when the kernel is the running one. */
  kernelSymbols?: Set<string>;
  /** Kernel variables, when kallsyms lists them (CONFIG_KALLSYMS_ALL): checks @symbol. */
  dataSymbols?: Set<string>;
  /** "system/event" of every trace event, when the kernel is the running one. */
  events?: Set<string>;
  /** An event's field names (from its format file), when it can be read. */
  eventFields?: (system: string, event: string) => string[] | undefined;
  /** BINARY (path, program in PATH, or library name) → absolute path. */
  locateBinary: (name: string) => string;
  /** Types of a binary from its debug info. */
  binaryTypes: (path: string) => { btf?: Btf; missing?: string };
  /** File offset of a function symbol in a binary. */
  symbolOffset: (path: string, func: string) => number;
}

const PROBE_FIELDS: Record<string, string[]> = { p: ['__probe_ip'], r: ['__probe_func', '__probe_ret_ip'], P: ['__probe_ip'], R: ['__probe_func', '__probe_ret_ip'] };

export function translateProbe(spec: ProbeSpec, index: number, env: TranslateEnv): ProbePlan {
  if (spec.kind === 'e') return translateEvent(spec, env);
  const event = `${spec.kind}${index}`;
  const user = spec.kind === 'P' || spec.kind === 'R';
  const fail = (code: 'LBC_ERR_TRACE_UNKNOWN', what: string): never => {
    throw traceError(code, what, spec.line, spec.targetSpan);
  };

  let btf: Btf | undefined;
  let proto: FunctionProto | undefined;
  let location: string;
  let funcName = spec.func!;
  if (user) {
    let path: string;
    let offset: number;
    try {
      path = env.locateBinary(spec.binary!);
      offset = env.symbolOffset(path, spec.func!);
    } catch (err) {
      // Same code (LBC_ERR_LIBRARY_NOT_FOUND, LBC_ERR_SYMBOL_NOT_FOUND...), now pointing at BINARY:FUNC.
      if (isLbcError(err)) throw traceError(err.code, err.message.replace(`${ERRORS[err.code].message}: `, ''), spec.line, spec.targetSpan);
      throw err;
    }
    const types = env.binaryTypes(path);
    btf = types.btf;
    proto = btf ? functionProto(btf, spec.func!) : undefined;
    location = `${path}:0x${offset.toString(16)}`;
    funcName = `${spec.func} in ${path}${types.missing ? ` (${types.missing})` : ''}`;
  } else {
    btf = env.kernelBtf;
    proto = functionProto(btf, spec.func!);
    if (!proto) {
      const known = env.kernelSymbols?.has(spec.func!);
      if (!known) fail('LBC_ERR_TRACE_UNKNOWN', `unknown kernel function '${spec.func}'${didYouMean(spec.func!, functionNames(btf))}`);
    }
    location = spec.offset ? `${spec.func}+${spec.offset}` : spec.func!;
  }
  const ctx = {
    line: spec.line,
    kind: spec.kind,
    arch: env.arch,
    btf,
    kernelBtf: user ? undefined : env.kernelBtf,
    proto,
    funcName,
    atEntry: !spec.offset,
    kernelSymbols: user ? undefined : env.dataSymbols,
  };
  const args = spec.args.map((a) => resolveArg(ctx, a));
  const conversions = Object.fromEntries(args.filter((a) => a.conversion).map((a) => [a.name, a.conversion!]));
  const fetches = args.map((a) => ` ${a.name}=${a.fetch}${a.type ? `:${a.type}` : ''}`).join('');
  const head = spec.kind.toLowerCase();
  const text = `${head}:${env.group}/${event} ${location}${fetches}`;
  const fields = [...args.map((a) => a.name), ...PROBE_FIELDS[spec.kind]!];
  return {
    spec,
    system: env.group,
    event,
    definition: { file: user ? 'uprobe_events' : 'kprobe_events', text },
    filter: translateFilter(spec, fields, conversions),
    args,
    conversions,
  };
}

function translateEvent(spec: ProbeSpec, env: TranslateEnv): ProbePlan {
  const [system, event] = spec.target.split('/') as [string, string];
  if (spec.args.length) {
    throw traceError('LBC_ERR_TRACE_SYNTAX', "trace events print their own fields: 'e' takes only a filter (f:EXPR)", spec.line, spec.args[0]!.nameSpan);
  }
  if (env.events && !env.events.has(spec.target)) {
    throw traceError('LBC_ERR_TRACE_UNKNOWN', `unknown trace event '${spec.target}'${didYouMean(spec.target, env.events)}`, spec.line, spec.targetSpan);
  }
  const fields = env.eventFields?.(system, event);
  return { spec, system, event, filter: translateFilter(spec, fields, {}), args: [], conversions: {} };
}

export function functionProto(btf: Btf, name: string): FunctionProto | undefined {
  const fn = btf.findByName(name, 'func')[0];
  if (!fn) return undefined;
  const proto = btf.type(fn.type);
  if (proto.kind !== 'func_proto') return undefined;
  return { params: proto.params, ret: proto.type };
}

const funcNameCache = new WeakMap<Btf, string[]>();
function functionNames(btf: Btf): string[] {
  let names = funcNameCache.get(btf);
  if (!names) {
    names = btf.types.filter((t) => t.kind === 'func').map((t) => t.name);
    funcNameCache.set(btf, names);
  }
  return names;
}
