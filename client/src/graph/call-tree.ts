/**
 * One call of the traced function as a tree of the calls it made, the shape both engines produce:
 * ftrace's function_graph output parsed (fgraph-parse.ts) and the BPF engine's entry/exit events
 * (bpf-events.ts) are turned into the same nodes, so filters, text, JSON and pictures are shared.
 */

export interface CallNode {
  func: string;
  /** 0 for the traced function itself, 1 for what it calls, and so on. */
  depth: number;
  /** Nanoseconds from entry to return; undefined when the return was not seen (trace stopped). */
  durationNs?: number;
  /** The return value as the engine gives it (ftrace's text, or a BTF-typed rendering). */
  ret?: string;
  /** Arguments rendered as NAME=VALUE, when asked for (--args, BPF engine). */
  args?: string[];
  children: CallNode[];
}

export interface GraphCall {
  pid: number;
  comm: string;
  cpu?: number;
  root: CallNode;
}

export function node(func: string, depth: number): CallNode {
  return { func, depth, children: [] };
}

/** Every node of a tree, parents before children. */
export function* walk(n: CallNode): Generator<CallNode> {
  yield n;
  for (const c of n.children) yield* walk(c);
}

/**
 * Builds trees from a task's enter/leave sequence, tolerating what tracers lose: a leave with no
 * open call of that name is dropped, one that skips open calls closes them (their return went
 * unrecorded) so the tree stays nested as the kernel ran it.
 */
export class TreeBuilder {
  private stack: Array<{ n: CallNode; startNs?: number }> = [];

  constructor(private readonly onCall: (root: CallNode) => void) {}

  get open(): boolean {
    return this.stack.length > 0;
  }

  /** The innermost open call's function. */
  get current(): string | undefined {
    return this.stack[this.stack.length - 1]?.n.func;
  }

  enter(func: string, startNs?: number, args?: string[]): void {
    const parent = this.stack[this.stack.length - 1];
    const n = node(func, this.stack.length);
    if (args) n.args = args;
    if (parent) parent.n.children.push(n);
    this.stack.push({ n, startNs });
  }

  /** A leaf that entered and returned with nothing traced in between (function_graph's `f();`). */
  leaf(func: string, durationNs?: number, ret?: string): void {
    if (!this.stack.length) return;
    this.enter(func);
    this.leave(func, { durationNs, ret });
  }

  leave(func: string, end: { durationNs?: number; endNs?: number; ret?: string }): void {
    let at = this.stack.length - 1;
    while (at >= 0 && this.stack[at]!.n.func !== func) at--;
    if (at < 0) return;
    const frame = this.stack[at]!;
    this.stack.length = at;
    frame.n.durationNs = end.durationNs ?? (end.endNs !== undefined && frame.startNs !== undefined ? end.endNs - frame.startNs : undefined);
    if (end.ret !== undefined) frame.n.ret = end.ret;
    if (at === 0) this.onCall(frame.n);
  }

  /** The unfinished call, as far as it got (at the end of a trace). */
  flush(): void {
    const root = this.stack[0];
    this.stack = [];
    if (root) this.onCall(root.n);
  }
}
