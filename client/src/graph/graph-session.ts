/** What the command needs of either engine. */
import type { GraphCall } from './call-tree.ts';

export type EngineName = 'ftrace' | 'bpf';

export interface GraphSettings {
  func: string;
  /** Deepest callee level traced (1: what FUNC calls directly). */
  depth: number;
  /** Only this process and its descendants (set_ftrace_pid + function-fork; the BPF engine checks ancestors). */
  pid?: number;
  /** Only tasks of this command name (checked in BPF; for ftrace on the parsed output). */
  comm?: string;
  /** Caps: more events than this in one second, or in all, stop the trace (it says so). */
  maxRate: number;
  maxEvents: number;
}

/** Counts events against the caps; says why once one is passed. */
export class EventCaps {
  private second = 0;
  private inSecond = 0;
  total = 0;

  constructor(private readonly maxRate: number, private readonly maxEvents: number) {}

  /** Adds n events; a reason to stop when a cap is passed. */
  add(n: number, nowMs = Date.now()): string | undefined {
    const s = Math.floor(nowMs / 1000);
    if (s !== this.second) {
      this.second = s;
      this.inSecond = 0;
    }
    this.inSecond += n;
    this.total += n;
    if (this.inSecond > this.maxRate) return `more than ${this.maxRate} events in one second (--max-rate): stopped to spare the machine; narrow it with --depth, --pid or --comm`;
    if (this.total > this.maxEvents) return `more than ${this.maxEvents} events in all (--max-events): stopped`;
    return undefined;
  }
}

export interface GraphSession {
  readonly engine: EngineName;
  /** Where it runs, for the start-up line. */
  readonly where: string;
  /** Things the user should know about this run (what the kernel cannot give, what was left out). */
  readonly notes: string[];
  start(): void;
  stream(onCall: (call: GraphCall) => void): Promise<void>;
  stop(): void;
  close(): void;
}
