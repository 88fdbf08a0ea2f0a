/**
 * Which engine runs: --engine when given, else what the kernel has. function_graph is preferred
 * (it sees calls through pointers and needs no compile); the BPF engine when the kernel lacks it or
 * when --args asks for what only BPF reads. A kernel with neither gets one error naming both.
 */
import { LbcError } from '@lbc/contract';
import { loadNative } from '../native/index.ts';
import { hasFunctionGraph } from './fgraph-place.ts';
import type { EngineName } from './graph-session.ts';

export interface EngineFacts {
  /** tracefs root, when mounted. */
  root?: string;
  functionGraph: boolean;
  /** Why fentry cannot attach on FUNC here, or undefined when it can. */
  trampolineRefusal?: string;
}

export function engineFacts(root: string | undefined, func: string): EngineFacts {
  const functionGraph = root !== undefined && hasFunctionGraph(root);
  let trampolineRefusal: string | undefined;
  try {
    const probe = loadNative().probeTrampoline(func, 'fentry');
    if (!probe.ok) trampolineRefusal = probe.reason ?? `errno ${probe.errno}`;
  } catch (err) {
    trampolineRefusal = (err as Error).message;
  }
  return { root, functionGraph, trampolineRefusal };
}

const FGRAPH_NEED = 'the function_graph tracer (CONFIG_FUNCTION_GRAPH_TRACER: function_graph in tracing/available_tracers)';
const BPF_NEED = 'BPF trampolines for fentry/fexit (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS and BTF; x86_64 5.5+, arm64 6.5+)';

export function chooseEngine(facts: EngineFacts, func: string, forced?: string, wantsArgs = false): EngineName {
  const bpf = facts.trampolineRefusal === undefined;
  if (forced !== undefined && forced !== 'ftrace' && forced !== 'bpf') {
    throw new LbcError('LBC_ERR_BAD_REQUEST', `--engine takes bpf or ftrace, not ${JSON.stringify(forced)}`);
  }
  if (forced === 'ftrace') {
    if (!facts.functionGraph) throw new LbcError('LBC_ERR_GRAPH_UNSUPPORTED', `--engine ftrace needs ${FGRAPH_NEED}, which this kernel lacks${facts.root ? '' : ' (tracefs is not mounted)'}${bpf ? '; --engine bpf works here' : ''}`);
    return 'ftrace';
  }
  if (forced === 'bpf') {
    if (!bpf) throw new LbcError('LBC_ERR_GRAPH_UNSUPPORTED', `--engine bpf needs ${BPF_NEED}: fentry on ${func} does not attach here (${facts.trampolineRefusal})${facts.functionGraph ? '; --engine ftrace works here' : ''}`);
    return 'bpf';
  }
  if (!facts.functionGraph && !bpf) {
    throw new LbcError('LBC_ERR_GRAPH_UNSUPPORTED', `this kernel has neither ${FGRAPH_NEED} nor ${BPF_NEED} (fentry on ${func}: ${facts.trampolineRefusal})`, { func });
  }
  if (wantsArgs && bpf) return 'bpf';
  return facts.functionGraph ? 'ftrace' : 'bpf';
}
