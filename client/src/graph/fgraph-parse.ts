/**
 * function_graph's text (trace_pipe or trace, with funcgraph-proc and funcgraph-tail) → calls.
 *
 *    0)     cat-91     |               |  do_sys_openat2() {
 *    0)     cat-91     | + 14.562 us   |      getname_flags.part.0();
 *    0)     cat-91     | + 20.661 us   |    } /* getname *\/
 *    0)     cat-91     |   1.2 us      |      kfree(); /* = 0x0 *\/          (funcgraph-retval, 6.5+)
 *
 * Lines are demultiplexed per task (the proc column's pid): tasks interleave in trace_pipe, each
 * task's own lines are in order. Banner lines (CPU switches, `=>`, irq arrows, comments) are skipped.
 */
import { TreeBuilder, type GraphCall } from './call-tree.ts';

const LINE = /^\s*(\d+)\)\s+(.*?)-(\d+)\s+\|\s*[+!#*@$]?\s*(?:(\d+(?:\.\d+)?)\s+us)?\s*\|\s(.*)$/;
const ENTER = /^\s*([\w.$]+)\(\)\s*\{\s*$/;
const LEAF = /^\s*([\w.$]+)\(\);\s*(?:\/\*\s*=\s*(.*?)\s*\*\/)?\s*$/;
const CLOSE = /^\s*\}\s*(?:\/\*\s*([\w.$]+)?\s*(?:=\s*(.*?))?\s*\*\/)?\s*$/;

export interface ParsedLine {
  cpu: number;
  comm: string;
  pid: number;
  durationNs?: number;
  body: string;
}

export function parseLine(text: string): ParsedLine | undefined {
  const m = LINE.exec(text);
  if (!m) return undefined;
  return {
    cpu: Number(m[1]),
    comm: m[2]!.trim(),
    pid: Number(m[3]),
    durationNs: m[4] !== undefined ? Math.round(Number(m[4]) * 1000) : undefined,
    body: m[5]!,
  };
}

/** The kernel prints error returns in decimal and the rest in hex: keep its text, minus a redundant 0x prefix on small values. */
function retText(raw: string | undefined): string | undefined {
  return raw === undefined || raw === '' ? undefined : raw;
}

export class FgraphParser {
  private readonly tasks = new Map<number, { builder: TreeBuilder; comm: string; cpu: number }>();
  /** Lines that were function_graph lines (not banners): what rate caps count. */
  lines = 0;

  constructor(private readonly onCall: (call: GraphCall) => void) {}

  push(text: string): void {
    const l = parseLine(text);
    if (!l) return;
    this.lines++;
    const task = this.task(l);
    task.comm = l.comm;
    task.cpu = l.cpu;
    let m: RegExpExecArray | null;
    if ((m = ENTER.exec(l.body))) {
      task.builder.enter(m[1]!);
    } else if ((m = LEAF.exec(l.body))) {
      // A leaf at the top is the traced function with nothing under it (or max_graph_depth 1).
      if (!task.builder.open) {
        task.builder.enter(m[1]!);
        task.builder.leave(m[1]!, { durationNs: l.durationNs, ret: retText(m[2]) });
      } else task.builder.leaf(m[1]!, l.durationNs, retText(m[2]));
    } else if ((m = CLOSE.exec(l.body))) {
      const name = m[1] ?? this.top(l.pid);
      if (name) task.builder.leave(name, { durationNs: l.durationNs, ret: retText(m[2]) });
    }
  }

  /** Unfinished calls, as far as they got. */
  end(): void {
    for (const t of this.tasks.values()) t.builder.flush();
  }

  private top(pid: number): string | undefined {
    return this.tasks.get(pid)?.builder.current;
  }

  private task(l: ParsedLine) {
    let t = this.tasks.get(l.pid);
    if (!t) {
      const entry = { comm: l.comm, cpu: l.cpu, builder: undefined as unknown as TreeBuilder };
      entry.builder = new TreeBuilder((root) => this.onCall({ pid: l.pid, comm: entry.comm, cpu: entry.cpu, root }));
      this.tasks.set(l.pid, entry);
      t = entry;
    }
    return t;
  }
}
