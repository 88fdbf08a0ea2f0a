/**
 * The ftrace engine: function_graph with set_graph_function=FUNC and max_graph_depth in the place
 * fgraph-place.ts picks, its trace_pipe read as it fills and parsed into calls. Everything is put
 * back on close, on exit and on SIGINT/SIGTERM; a run killed hard is cleaned up by the next one.
 */
import { closeSync, existsSync, openSync, constants } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LbcError, isLbcError } from '@lbc/contract';
import { perform, readPipeChunk } from '../trace/tracefs.ts';
import type { GraphCall } from './call-tree.ts';
import { FgraphParser } from './fgraph-parse.ts';
import { releaseGraphPlace, sweepGraphLeftovers, takeGraphPlace, type GraphPlace, type GraphSweep } from './fgraph-place.ts';
import { EventCaps, type GraphSession, type GraphSettings } from './graph-session.ts';

export class FgraphSession implements GraphSession {
  readonly engine = 'ftrace' as const;
  readonly where: string;
  readonly notes: string[] = [];
  private closed = false;
  private stopping = false;
  private fd: number | undefined;
  private readonly closeOnExit = () => this.close();

  private constructor(private readonly root: string, private readonly place: GraphPlace, private readonly settings: GraphSettings, readonly swept: GraphSweep) {
    this.where = place.shared ? `${root} (the top-level tracer: this kernel's instances cannot run function_graph with set_graph_function; locked, restored on exit)` : `${root}/${place.dir.replace(/\/$/, '')}`;
  }

  static open(root: string, settings: GraphSettings): FgraphSession {
    const swept = sweepGraphLeftovers(root);
    const place = takeGraphPlace(root, settings.func);
    const session = new FgraphSession(root, place, settings, swept);
    // Ctrl-C is the command's (it stops, reads what is left, then closes); exit closes in any case.
    process.on('exit', session.closeOnExit);
    try {
      session.setup();
    } catch (err) {
      session.close();
      throw err;
    }
    return session;
  }

  private write(rel: string, text: string): void {
    perform(this.root, { op: 'write', path: `${this.place.dir}${rel}`, text });
  }

  private option(name: string, on: boolean): boolean {
    if (!existsSync(`${this.root}/${this.place.dir}options/${name}`)) return false;
    this.write(`options/${name}`, on ? '1' : '0');
    return true;
  }

  private setup(): void {
    const s = this.settings;
    this.write('tracing_on', '0');
    try {
      this.write('set_graph_function', s.func);
    } catch (err) {
      if (!isLbcError(err, 'LBC_ERR_TRACEFS')) throw err;
      throw new LbcError('LBC_ERR_TRACE_UNKNOWN', `ftrace cannot trace '${s.func}': it is not in available_filter_functions (unknown, inlined or notrace)`, { func: s.func }, { cause: err });
    }
    this.write('max_graph_depth', String(s.depth + 1));
    if (s.pid !== undefined) this.write('set_ftrace_pid', String(s.pid));
    this.option('function-fork', s.pid !== undefined);
    this.option('funcgraph-tail', true);
    this.option('funcgraph-proc', true);
    this.option('funcgraph-cpu', true);
    this.option('funcgraph-duration', true);
    this.option('funcgraph-overhead', true);
    this.option('funcgraph-abstime', false);
    // Interrupts taken while FUNC runs are not FUNC's calls.
    this.option('funcgraph-irqs', false);
    if (this.option('funcgraph-retval', true)) this.option('funcgraph-retval-hex', false);
    else this.notes.push('this kernel prints no return values in function_graph (funcgraph-retval, Linux 6.5+ with CONFIG_FUNCTION_GRAPH_RETVAL): use --engine bpf for them');
    this.write('trace', '');
    this.write('current_tracer', 'function_graph');
  }

  start(): void {
    this.write('tracing_on', '1');
  }

  /** Parses trace_pipe into calls until stop() (then reads what is left) or close(). */
  async stream(onCall: (call: GraphCall) => void): Promise<void> {
    const parser = new FgraphParser(onCall);
    const caps = new EventCaps(this.settings.maxRate, this.settings.maxEvents);
    this.fd = openSync(`${this.root}/${this.place.dir}trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
    const buf = Buffer.alloc(256 * 1024);
    let pending = '';
    let idle = 0;
    while (!this.closed) {
      const n = await readPipeChunk(this.fd!, buf, () => this.closed);
      if (n <= 0) {
        // Stopped and nothing more for a while: what the kernel had is all read.
        if (this.stopping && ++idle >= 4) break;
        await sleep(this.stopping ? 25 : 50);
        continue;
      }
      idle = 0;
      pending += buf.toString('utf8', 0, n);
      const lines = pending.split('\n');
      pending = lines.pop()!;
      const before = parser.lines;
      for (const line of lines) parser.push(line);
      const capped = this.stopping ? undefined : caps.add(parser.lines - before);
      if (capped) {
        this.notes.push(capped);
        this.stop();
      }
    }
    if (pending) parser.push(pending);
    parser.end();
  }

  /** No new calls are recorded; stream() ends once the buffer is read. */
  stop(): void {
    if (this.stopping || this.closed) return;
    this.stopping = true;
    try {
      this.write('tracing_on', '0');
    } catch {
      // Closing anyway.
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.off('exit', this.closeOnExit);
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed.
      }
    }
    releaseGraphPlace(this.root, this.place);
  }
}
