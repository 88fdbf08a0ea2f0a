import { writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import { LbcError } from '@lbc/contract';
import { reportError } from './print-error.ts';

interface GraphFlags {
  engine?: string;
  depth: string;
  include: string[];
  exclude: string[];
  extra: string[];
  proto?: boolean;
  args?: boolean;
  pid?: string;
  comm?: string;
  durationMin?: string;
  duration?: string;
  json?: boolean;
  svg?: string;
  html?: string;
  maxRate: string;
  maxEvents: string;
  maxFuncs: string;
  server?: string;
}

const EXAMPLES = `
examples:
  lbc graph do_sys_openat2 -- cat /etc/hostname       who do_sys_openat2 calls for one command
  lbc graph tcp_connect -d 5 --include '*skb*' --duration 10
  lbc graph do_filp_open --engine bpf --args --json --pid 1234
  lbc graph vfs_read --exclude 'security_*' --duration-min 50us --svg read.svg -- dd if=/dev/zero of=/dev/null count=10

engines: ftrace (function_graph; every call, also through pointers; return values on 6.5+ kernels
with funcgraph-retval) and bpf (fentry/fexit on FUNC and the functions it calls directly, found in
its code, to --depth; typed arguments and return values; compiled once per kernel by the service).
`;

const collect = (v: string, list: string[]) => [...list, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function positive(name: string, value: string, max?: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || (max !== undefined && n > max)) {
    throw new LbcError('LBC_ERR_BAD_REQUEST', `${name} takes a whole number from 1${max !== undefined ? ` to ${max}` : ''}, not ${JSON.stringify(value)}`);
  }
  return n;
}

/** 100us, 2ms, 1.5s, 800ns; a bare number is microseconds (function_graph's unit). */
export function parseDurationNs(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?$/.exec(value.trim());
  if (!m) throw new LbcError('LBC_ERR_BAD_REQUEST', `${flag} takes a time such as 100us, 2ms or 1s, not ${JSON.stringify(value)}`);
  const scale = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[(m[2] ?? 'us') as 'ns'];
  return Math.round(Number(m[1]) * scale);
}

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description("a kernel function's calls as a tree: callees, durations, return values (function_graph or fentry/fexit; needs root)")
    .argument('<func>', 'the kernel function, e.g. do_sys_openat2')
    .argument('[command...]', 'run this command (after --) and trace it and its children; else trace everything until Ctrl-C or --duration')
    .option('--engine <name>', 'bpf or ftrace (default: ftrace where the kernel has function_graph, else bpf)')
    .option('-d, --depth <n>', 'levels of callees under FUNC (1: its direct calls)', '3')
    .option('-i, --include <glob>', 'show only callees matching (and the calls leading to them); repeat or comma-separate', collect, [])
    .option('-x, --exclude <glob>', 'leave out callees matching, with what they call', collect, [])
    .option('--extra <glob>', 'bpf: also attach functions matching (calls through pointers are not found in the code)', collect, [])
    .option('--proto', 'print prototypes (from BTF) instead of ()')
    .option('--args', 'print arguments, typed from BTF (bpf engine)')
    .option('-p, --pid <pid>', 'only this process and its children')
    .option('-c, --comm <name>', 'only tasks with this command name')
    .option('--duration-min <time>', 'only calls of FUNC taking at least this long (100us, 2ms)')
    .option('--duration <seconds>', 'stop after this many seconds')
    .option('--json', 'one JSON object per call')
    .option('--svg <file>', 'write the aggregated calls as an SVG icicle graph')
    .option('--html <file>', 'the same picture in an HTML page')
    .option('--max-rate <n>', 'stop when the kernel sends more events than this in a second', '200000')
    .option('--max-events <n>', 'stop after this many events', '2000000')
    .option('--max-funcs <n>', 'bpf: at most this many functions attached (at most 500)', '128')
    .option('--server <url>', 'lbc service URL (bpf engine: compiles its program once per kernel)')
    .addHelpText('after', EXAMPLES)
    .action(async (func: string, command: string[], flags: GraphFlags) => {
      try {
        process.exitCode = await graph(func, command, flags);
      } catch (err) {
        reportError(err);
      }
    });
}

async function graph(func: string, command: string[], flags: GraphFlags): Promise<number> {
  const g = await import('../graph/index.ts');
  const { findTracefs } = await import('../trace/tracefs.ts');
  const depth = positive('--depth', flags.depth, 50);
  const pid = flags.pid !== undefined ? positive('--pid', flags.pid) : undefined;
  if (pid !== undefined && command.length) throw new LbcError('LBC_ERR_BAD_REQUEST', '--pid and a command both name what to trace: give one');
  const durationMinNs = flags.durationMin !== undefined ? parseDurationNs('--duration-min', flags.durationMin) : undefined;
  const seconds = flags.duration !== undefined ? Number(flags.duration) : undefined;
  if (seconds !== undefined && !(seconds > 0)) throw new LbcError('LBC_ERR_BAD_REQUEST', `--duration takes seconds, not ${JSON.stringify(flags.duration)}`);
  let root: string | undefined;
  try {
    root = findTracefs();
  } catch {
    // The BPF engine may still run; engine choice says what is missing.
  }
  const engine = g.chooseEngine(g.engineFacts(root, func), func, flags.engine, Boolean(flags.args));
  if (flags.args && engine !== 'bpf') throw new LbcError('LBC_ERR_BAD_REQUEST', '--args needs --engine bpf: function_graph records no arguments');
  const settingsBase = { func, depth, comm: flags.comm, maxRate: positive('--max-rate', flags.maxRate), maxEvents: positive('--max-events', flags.maxEvents) };
  const { localKernelTypes } = await import('../trace/kernel-types.ts');
  // BTF only where it is used (the bpf engine, --proto): function_graph needs none.
  let kernelTypes: ReturnType<typeof localKernelTypes> | undefined;
  const types = () => (kernelTypes ??= localKernelTypes());
  const say = (line: string) => void process.stderr.write(`lbc graph: ${line}\n`);

  const stopped = command.length ? await g.spawnStopped(command) : undefined;
  const settings = { ...settingsBase, pid: stopped?.pid ?? pid };
  let session: import('../graph/index.ts').GraphSession;
  try {
    if (engine === 'ftrace') {
      const s = g.FgraphSession.open(root!, settings);
      const swept = s.swept.instances.length + (s.swept.topLevelOf ? 1 : 0);
      if (swept) say(`cleaned up after ${swept} earlier run(s) that did not exit (instances removed, top-level tracer settings put back)`);
      session = s;
    } else {
      const plan = g.planAttach(func, {
        symbols: g.KernelSymbols.read(),
        core: g.KernelCore.open(),
        traceable: root ? g.traceableFunctions(root) : new Set(),
        btf: types().btf,
        arch: types().arch,
      }, { depth, maxFunctions: positive('--max-funcs', flags.maxFuncs, 500), exclude: flags.exclude, extra: flags.extra });
      for (const [why, names] of Object.entries(plan.skipped)) say(`left out ${names.length}: ${why}: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', …' : ''}`);
      session = await g.BpfGraphSession.open(plan, settings, types().btf, { server: flags.server, args: Boolean(flags.args) });
    }
  } catch (err) {
    stopped?.child.kill('SIGKILL');
    throw err;
  }

  const calls: import('../graph/index.ts').GraphCall[] = [];
  let seen = 0;
  const filter = { depth, include: flags.include, exclude: flags.exclude, durationMinNs };
  const proto = flags.proto ? (name: string) => g.prototypeText(types().btf, name) : undefined;
  const commMatches = (comm: string) => !flags.comm || comm === flags.comm || (comm.length < flags.comm.length && flags.comm.startsWith(comm));
  const onCall = (raw: import('../graph/index.ts').GraphCall) => {
    if (raw.root.func !== func || !commMatches(raw.comm)) return;
    seen++;
    const call = g.filterCall(raw, filter);
    if (!call) return;
    calls.push(call);
    process.stdout.write(flags.json ? `${g.callJson(call)}\n` : `${g.formatCall(call, { proto })}\n`);
  };

  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) {
      session.close();
      process.exit(130);
    }
    session.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = seconds !== undefined ? setTimeout(() => session.stop(), seconds * 1000) : undefined;
  let exitCode = 0;
  try {
    say(`${engine} engine, ${session.where}; ${stopped ? `running ${command.join(' ')}` : 'Ctrl-C to stop'}`);
    const streaming = session.stream(onCall);
    session.start();
    if (stopped) {
      stopped.resume();
      void stopped.exited.then((code) => {
        exitCode = code;
        session.stop();
      });
    }
    await streaming;
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    session.close();
  }
  if (stopped && stopped.child.exitCode === null) exitCode = await stopped.exited;
  for (const note of session.notes) say(note);
  say(`${seen} call(s) of ${func}${calls.length !== seen ? `, ${calls.length} shown` : ''}`);
  const title = `lbc graph ${func} (${engine} engine, ${os.release()}): ${calls.length} call(s)`;
  if (flags.svg) writeFileSync(flags.svg, g.flameSvg(calls, title));
  if (flags.html) writeFileSync(flags.html, g.flameHtml(calls, title));
  return exitCode;
}
