/**
 * A running trace: probes created in a private ftrace instance, events read from its trace_pipe as
 * they come, everything removed on close, on exit and on SIGINT/SIGTERM.
 */
import { closeSync, existsSync, openSync, constants } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { trackForExit, untrackForExit } from '../lifecycle/exit-cleanup.ts';
import { traceError } from './trace-error.ts';
import { sweepLeftovers, type SweepResult } from './leftovers.ts';
import { findTracefs, perform, readPipeChunk } from './tracefs.ts';
import { setupOps, teardownOps, type RunNames, type TracefsOp } from './tracefs-ops.ts';
import type { ProbePlan } from './translate.ts';
import { formatValue } from './value-conversions.ts';

export interface TraceSessionOptions extends RunNames {
  root?: string;
}

export class TraceSession {
  readonly root: string;
  readonly swept: SweepResult;
  private done: TracefsOp[] = [];
  private closed = false;
  private fd: number | undefined;

  private constructor(readonly plans: ProbePlan[], private readonly names: RunNames, root: string, swept: SweepResult) {
    this.root = root;
    this.swept = swept;
  }

  /** Sweeps leftovers of dead runs, then creates and enables every probe; on any failure removes what it made. */
  static open(plans: ProbePlan[], options: TraceSessionOptions): TraceSession {
    const root = options.root ?? findTracefs();
    for (const p of plans) {
      if (p.definition?.file === 'kprobe_events' && !existsSync(`${root}/kprobe_events`)) {
        throw traceError(
          'LBC_ERR_TRACE_UNSUPPORTED',
          `this kernel has no ${root}/kprobe_events (CONFIG_KPROBE_EVENTS is off): '${p.spec.kind}' probes cannot run here`,
          p.spec.line,
          { start: p.spec.line.indexOf(p.spec.kind), end: p.spec.line.indexOf(p.spec.kind) + 1 },
        );
      }
    }
    const swept = sweepLeftovers(root);
    const session = new TraceSession(plans, options, root, swept);
    trackForExit(session);
    try {
      for (const op of setupOps(plans, options)) {
        perform(root, op);
        session.done.push(op);
      }
    } catch (err) {
      session.close();
      throw err;
    }
    return session;
  }

  get instance(): string {
    return this.names.instance;
  }

  /** Calls onLine for every event line (conversions applied) until close(). */
  async stream(onLine: (line: string) => void): Promise<void> {
    this.fd = openSync(`${this.root}/instances/${this.names.instance}/trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
    const buf = Buffer.alloc(64 * 1024);
    let pending = '';
    while (!this.closed) {
      const n = await readPipeChunk(this.fd!, buf, () => this.closed);
      if (n <= 0) {
        await sleep(50);
        continue;
      }
      pending += buf.toString('utf8', 0, n);
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line) onLine(this.convert(line));
    }
  }

  /** ip_* and b16_/B32_... values as the user asked to read them. */
  convert(line: string): string {
    const m = /:\s+([\w]+):\s/.exec(line);
    const plan = m ? this.plans.find((p) => p.event === m[1]) : undefined;
    if (!plan || Object.keys(plan.conversions).length === 0) return line;
    return line.replace(/(?<=\s)([A-Za-z_]\w*)=(\S+)/g, (whole, name: string, value: string) => {
      const c = plan.conversions[name];
      return c ? `${name}=${formatValue(c, value)}` : whole;
    });
  }

  /** Synchronous so it can run from an exit handler. Every teardown step is attempted. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    untrackForExit(this);
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed.
      }
    }
    const createdInstance = this.done.some((o) => o.op === 'mkdir');
    for (const op of teardownOps(this.plans, this.names)) {
      // Only undo what was done: a probe that was never defined is not removed.
      if (op.op === 'append' && !this.definedHere(op)) continue;
      if (!createdInstance && op.path.startsWith('instances/')) continue;
      try {
        perform(this.root, op);
      } catch {
        // Keep going: the rest must still be removed.
      }
    }
  }

  private definedHere(op: TracefsOp): boolean {
    if (op.op !== 'append') return false;
    const name = op.text.slice(2);
    return this.done.some((d) => d.op === 'append' && d.text.includes(`:${name} `));
  }
}
