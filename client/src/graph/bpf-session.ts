/**
 * The BPF engine: fentry/fexit on FUNC and the callees callees.ts found, one copy of the cached
 * program pair per function (graph-probe-source.ts), every copy sharing the first one's maps.
 * Events (entry/exit per task, with a depth the programs keep per task) become the same call trees
 * as function_graph's. Links and maps go on close, on exit and on SIGINT/SIGTERM (the client's own
 * exit hooks); nothing outlives the process, so a crash leaves nothing attached.
 */
import type { Btf } from '@lbc/btf';
import { LbcError, isLbcError } from '@lbc/contract';
import { Lbc } from '../lbc.ts';
import type { GraphCall } from './call-tree.ts';
import { TreeBuilder } from './call-tree.ts';
import type { AttachPlan } from './callees.ts';
import { GRAPH_MAX_ARGS, GRAPH_PROBE_NAME, GRAPH_PROBE_SOURCE } from './graph-probe-source.ts';
import type { GraphSession, GraphSettings } from './graph-session.ts';
import { renderValue, shapeOfFunction, type FunctionShape } from './typed-values.ts';

export interface BpfGraphOptions {
  server?: string;
  /** Arguments of every call (BTF-typed). */
  args: boolean;
  /** Told of each function as it attaches (progress under TCG, where loading takes a while). */
  onAttached?: (done: number, total: number) => void;
}

interface GraphEvent {
  ts: bigint;
  ret: bigint;
  args: bigint[];
  tid: number;
  tgid: number;
  func: number;
  kind: number;
  depth: number;
  comm: string;
}

export class BpfGraphSession implements GraphSession {
  readonly engine = 'bpf' as const;
  readonly where: string;
  readonly notes: string[] = [];
  private readonly objects: Lbc[] = [];
  private readonly shapes: Array<FunctionShape | undefined>;
  private closed = false;
  private stopping = false;
  private wake: (() => void) | undefined;
  private started = false;

  private constructor(private readonly plan: AttachPlan, private readonly settings: GraphSettings, private readonly btf: Btf, private readonly options: BpfGraphOptions) {
    this.shapes = plan.functions.map((f) => shapeOfFunction(btf, f.name));
    this.where = `fentry/fexit on ${plan.functions.length} function(s)`;
  }

  static async open(plan: AttachPlan, settings: GraphSettings, btf: Btf, options: BpfGraphOptions): Promise<BpfGraphSession> {
    const session = new BpfGraphSession(plan, settings, btf, options);
    try {
      await session.attachAll();
    } catch (err) {
      session.close();
      throw err;
    }
    return session;
  }

  private async attachAll(): Promise<void> {
    const fds: Record<string, number> = {};
    const failed: string[] = [];
    const total = this.plan.functions.length;
    for (const [i, f] of this.plan.functions.entries()) {
      const lbc = await new Lbc(GRAPH_PROBE_NAME, GRAPH_PROBE_SOURCE, { server: this.options.server, load: false, fallbacks: false }).ready;
      const shape = this.shapes[i];
      lbc.rodata.func_id = i;
      lbc.rodata.is_root = i === 0 ? 1 : 0;
      lbc.rodata.nargs = f.nargs;
      lbc.rodata.read_args = this.options.args ? 1 : 0;
      lbc.rodata.read_ret = shape && shape.ret !== 0 ? 1 : 0;
      lbc.rodata.max_depth = this.settings.depth;
      lbc.rodata.max_rate = this.settings.maxRate;
      if (i === 0) {
        if (this.settings.pid !== undefined) lbc.rodata.target_tgid = this.settings.pid;
        if (this.settings.comm) lbc.rodata.target_comm = this.settings.comm.slice(0, 15);
      }
      lbc.programs.lbc_graph_entry.attachTarget = f.name;
      lbc.programs.lbc_graph_exit.attachTarget = f.name;
      if (i > 0) for (const [map, fd] of Object.entries(fds)) lbc.maps[map]!.reuseFd(fd);
      try {
        await lbc.load();
        await lbc.attach();
      } catch (err) {
        lbc.close();
        // FUNC itself must attach; a callee that cannot (too many arguments for this kernel's
        // trampolines, say) is left out and named.
        if (i === 0) throw this.rootError(f.name, err);
        const why = (isLbcError(err) ? err.message.split('\n')[0]! : String(err)).replace(/ \u2192 SEC\("[^"]*"\)/, '');
        const tooMany = f.nargs > 6 && /ENOTSUPP/.test(why) ? `, ${f.nargs} arguments: trampolines take 6 before Linux 6.5 on x86_64` : '';
        failed.push(`${f.name} (${why}${tooMany})`);
        continue;
      }
      if (i === 0) for (const map of ['graph_events', 'graph_tasks', 'graph_rate']) fds[map] = lbc.maps[map]!.fd;
      this.objects.push(lbc);
      this.options.onAttached?.(i + 1, total);
    }
    if (failed.length) this.notes.push(`not attached (the kernel refused): ${failed.join('; ')}`);
  }

  private rootError(func: string, err: unknown): LbcError {
    if (isLbcError(err) && err.code === 'LBC_ERR_KERNEL_FUNCTION_MISSING') return err;
    const why = isLbcError(err) ? err.message : String(err);
    return new LbcError('LBC_ERR_GRAPH_UNSUPPORTED', `fentry/fexit on ${func} cannot attach on this kernel: ${why.split('\n')[0]}`, { func }, { cause: err });
  }

  start(): void {
    this.started = true;
  }

  async stream(onCall: (call: GraphCall) => void): Promise<void> {
    if (!this.objects.length) return;
    const builders = new Map<number, TreeBuilder>();
    const comms = new Map<number, { comm: string; tgid: number }>();
    const builderOf = (tid: number) => {
      let b = builders.get(tid);
      if (!b) {
        b = new TreeBuilder((root) => {
          const who = comms.get(tid)!;
          onCall({ pid: who.tgid, comm: who.comm, root });
        });
        builders.set(tid, b);
      }
      return b;
    };
    const names = this.plan.functions.map((f) => f.name);
    const events = this.objects[0]!.maps.graph_events!;
    const sub = events.openRingBuffer((raw: unknown) => {
      if (!this.started) return;
      const e = raw as GraphEvent;
      const name = names[e.func];
      if (name === undefined) return;
      comms.set(e.tid, { comm: e.comm, tgid: e.tgid });
      const b = builderOf(e.tid);
      const shape = this.shapes[e.func];
      if (e.kind === 0) {
        if (e.depth === 0 && b.open) b.flush();
        if (e.depth > 0 && !b.open) return;
        const args = this.options.args ? this.renderArgs(shape, e.args) : undefined;
        b.enter(name, Number(e.ts), args);
      } else {
        const ret = shape && shape.ret !== 0 ? renderValue(this.btf, shape.ret, BigInt.asUintN(64, BigInt(e.ret))) : undefined;
        b.leave(name, { endNs: Number(e.ts), ret });
      }
    });
    try {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (this.closed || this.stopping) resolve();
      });
    } finally {
      try {
        sub.close();
      } catch {
        // Ctrl-C: the client's own exit hook may have closed the objects first.
      }
      for (const b of builders.values()) b.flush();
      this.reportDrops();
    }
  }

  private renderArgs(shape: FunctionShape | undefined, raw: bigint[]): string[] | undefined {
    if (!shape) return undefined;
    return shape.params.slice(0, GRAPH_MAX_ARGS).map((p, i) => `${p.name || `arg${i}`}=${renderValue(this.btf, p.type, BigInt.asUintN(64, BigInt(raw[i] ?? 0)))}`);
  }

  private reportDrops(): void {
    try {
      const rate = this.objects[0]?.maps.graph_rate?.get(0) as { dropped?: bigint | number } | undefined;
      const dropped = Number(rate?.dropped ?? 0);
      if (dropped > 0) this.notes.push(`${dropped} event(s) dropped over --max-rate ${this.settings.maxRate}/s: calls in those seconds are incomplete`);
    } catch {
      // The map is gone with a closed object.
    }
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    // Events already in the ring are read by the subscription's next poll; give it one.
    setTimeout(() => this.wake?.(), 150);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    for (const o of this.objects.reverse()) {
      try {
        o.close();
      } catch {
        // Keep going: every link must go.
      }
    }
    this.objects.length = 0;
  }
}
