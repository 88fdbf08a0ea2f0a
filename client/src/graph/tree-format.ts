/**
 * Call trees as text, the way function_graph prints them with funcgraph-tail: a DURATION column,
 * then the calls indented two spaces a level, `f();` for a leaf, `} /* f *\/` closing a caller,
 * with ` = RET` where the return value is known; --json gives the trees as they are.
 */
import type { CallNode, GraphCall } from './call-tree.ts';

export function formatDuration(ns: number | undefined): string {
  if (ns === undefined) return '';
  return `${(ns / 1000).toFixed(3)} us`;
}

const DURATION_WIDTH = 14;

export interface FormatOptions {
  /** Prototype per function name (--proto): shown instead of `()`. */
  proto?: (func: string) => string | undefined;
}

function line(duration: string, depth: number, text: string): string {
  return `${duration.padStart(DURATION_WIDTH)} | ${'  '.repeat(depth + 1)}${text}`;
}

function callText(n: CallNode, options: FormatOptions): string {
  if (n.args) return `${n.func}(${n.args.join(', ')})`;
  const p = options.proto?.(n.func);
  return p ?? `${n.func}()`;
}

function formatNode(n: CallNode, out: string[], options: FormatOptions): void {
  const ret = n.ret !== undefined ? ` = ${n.ret}` : '';
  if (n.children.length === 0) {
    out.push(line(formatDuration(n.durationNs), n.depth, `${callText(n, options)};${ret ? ` /*${ret} */` : ''}`));
    return;
  }
  out.push(line('', n.depth, `${callText(n, options)} {`));
  for (const c of n.children) formatNode(c, out, options);
  const end = n.durationNs === undefined ? ' (still running when the trace ended)' : '';
  out.push(line(formatDuration(n.durationNs), n.depth, `} /* ${n.func}${ret}${end} */`));
}

export function formatCall(call: GraphCall, options: FormatOptions = {}): string {
  const head = `# ${call.root.func}: pid ${call.pid} (${call.comm})${call.cpu !== undefined ? ` cpu ${call.cpu}` : ''}`;
  const out = [head];
  formatNode(call.root, out, options);
  return `${out.join('\n')}\n`;
}

export function callJson(call: GraphCall): string {
  return JSON.stringify(call);
}
