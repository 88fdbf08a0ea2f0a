// Runs inside a lab guest: `lbc graph` (the bundled CLI) on this kernel, with both engines, next to
// the kernel's own function_graph driven by hand for the same workload (what a user's shell script
// does). Each check prints one record; the host test compares them. Environment: LBC_LAB_RECORD.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const MARKER = process.env.LBC_LAB_RECORD;
const T = '/sys/kernel/tracing';
const CLI = '/lab/client/dist/cli.js';
const TARGET = '/lab/graph-target';
const OFFLINE = ['--server', 'http://127.0.0.1:9'];
writeFileSync(TARGET, 'hello\n');

function report(record) {
  process.stdout.write(`${MARKER} ${JSON.stringify(record)}\n`);
}

const read = (f) => readFileSync(`${T}/${f}`, 'utf8');

/** The state lbc graph must leave as it found it. */
function tracefsState() {
  return {
    currentTracer: read('current_tracer').trim(),
    setGraphFunction: read('set_graph_function').trim(),
    maxGraphDepth: read('max_graph_depth').trim(),
    setFtracePid: read('set_ftrace_pid').trim(),
    tracingOn: read('tracing_on').trim(),
    funcgraphProc: read('options/funcgraph-proc').trim(),
    funcgraphTail: read('options/funcgraph-tail').trim(),
    instances: readdirSync(`${T}/instances`).filter((n) => n.startsWith('lbc-graph-')),
    lock: existsSync('/run/lbc-graph.lock'),
  };
}

function cli(args, { killAfter } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
  const started = performance.now();
  return {
    child,
    get stderr() {
      return err;
    },
    done: new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfter ?? 120_000);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? signal, stdout: out, stderr: err, ms: Math.round(performance.now() - started) });
      });
    }),
  };
}

const calls = (stdout) => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

async function bpfLinks() {
  const r = await cli(['inspect', 'links', '--json']).done;
  try {
    return JSON.parse(r.stdout).length;
  } catch {
    return `unreadable: ${r.stderr.slice(0, 200)}`;
  }
}

const CHECKS = {
  // The kernel's own function_graph, set up by hand as a shell script would, for `cat TARGET`.
  kernel: async () => {
    const w = (f, v) => writeFileSync(`${T}/${f}`, v);
    const before = tracefsState();
    w('set_graph_function', 'do_sys_openat2');
    w('max_graph_depth', '3');
    w('options/funcgraph-proc', '1');
    w('options/funcgraph-tail', '1');
    w('options/funcgraph-irqs', '0');
    w('trace', '');
    w('current_tracer', 'function_graph');
    await new Promise((resolve) => spawn('/bin/cat', [TARGET], { stdio: 'ignore' }).once('exit', resolve));
    w('tracing_on', '0');
    const text = read('trace');
    w('current_tracer', 'nop');
    w('set_graph_function', '');
    w('max_graph_depth', before.maxGraphDepth);
    w('options/funcgraph-proc', before.funcgraphProc);
    w('options/funcgraph-tail', before.funcgraphTail);
    w('options/funcgraph-irqs', '1');
    w('tracing_on', '1');
    return { ok: text.includes('do_sys_openat2'), text: text.split('\n').filter((l) => l.includes(' cat-')).join('\n') };
  },
  ftrace: async () => {
    const before = tracefsState();
    const r = await cli(['graph', 'do_sys_openat2', '--engine', 'ftrace', '-d', '2', '--json', '--', '/bin/cat', TARGET]).done;
    const after = tracefsState();
    const text = await cli(['graph', 'do_sys_openat2', '--engine', 'ftrace', '-d', '1', '--proto', '--svg', '/tmp/graph.svg', '--', '/bin/cat', TARGET]).done;
    const svg = existsSync('/tmp/graph.svg') ? readFileSync('/tmp/graph.svg', 'utf8') : '';
    return { ok: r.code === 0 && text.code === 0, code: r.code, ms: r.ms, calls: calls(r.stdout), stderr: r.stderr, before, after, text: text.stdout, svg };
  },
  bpf: async () => {
    const linksBefore = await bpfLinks();
    const r = await cli(['graph', 'do_sys_openat2', '--engine', 'bpf', '-d', '2', '--args', '--json', ...OFFLINE, '--', '/bin/cat', TARGET, '/lab/no-such-file']).done;
    return { ok: typeof r.code === 'number', code: r.code, ms: r.ms, calls: calls(r.stdout), stderr: r.stderr, linksBefore, linksAfter: await bpfLinks(), tracefsAfter: tracefsState() };
  },
  filters: async () => {
    const inc = await cli(['graph', 'do_sys_openat2', '--engine', 'ftrace', '-d', '3', '--include', 'path_*', '--json', '--', '/bin/cat', TARGET]).done;
    const exc = await cli(['graph', 'do_sys_openat2', '--engine', 'ftrace', '-d', '3', '--exclude', 'getname*,do_filp_open', '--json', '--', '/bin/cat', TARGET]).done;
    const bpfInc = await cli(['graph', 'do_sys_openat2', '--engine', 'bpf', '-d', '2', '--include', 'do_filp_open', '--json', ...OFFLINE, '--', '/bin/cat', TARGET]).done;
    return { ok: inc.code === 0 && exc.code === 0, bpfIncludeCode: bpfInc.code, include: calls(inc.stdout), exclude: calls(exc.stdout), bpfInclude: calls(bpfInc.stdout), stderr: [inc.stderr, exc.stderr, bpfInc.stderr] };
  },
  // Killed hard while tracing: the next run puts everything back first.
  crash: async () => {
    const run = cli(['graph', 'do_sys_openat2', '--engine', 'ftrace']);
    for (let i = 0; i < 600 && !run.stderr.includes('Ctrl-C to stop'); i++) await sleep(100);
    const during = tracefsState();
    run.child.kill('SIGKILL');
    await run.done;
    const leftBehind = tracefsState();
    const next = await cli(['graph', 'do_sys_openat2', '--engine', 'ftrace', '--duration', '1']).done;
    return { ok: next.code === 0, during, leftBehind, next: { code: next.code, stderr: next.stderr }, after: tracefsState() };
  },
};

for (const name of process.argv.slice(2)) {
  try {
    report({ check: name, ...(await CHECKS[name]()) });
  } catch (err) {
    report({ check: name, ok: false, error: { code: err.code, message: String(err.stack ?? err).slice(0, 2000) } });
  }
}
