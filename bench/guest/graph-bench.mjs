// Runs inside a lab guest (bench/graph.ts): the same open/close loop untraced, under lbc graph with
// each engine, and under the plain ftrace shell script users write; each loop times itself and the
// guest prints one record with every sample. Arguments: loop length, rounds. Env: LBC_LAB_RECORD.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const [N, ROUNDS] = process.argv.slice(2).map(Number);
const MARKER = process.env.LBC_LAB_RECORD;
const LOOP = '/lab/open-loop.mjs';
const OUT = '/tmp/loop-ns';
const DEPTH = '2';
writeFileSync('/lab/graph-target', 'x\n');
writeFileSync(LOOP, `import { openSync, closeSync, writeFileSync } from 'node:fs';
const n = Number(process.argv[2]);
for (let i = 0; i < 200; i++) closeSync(openSync('/lab/graph-target', 'r'));
const t = process.hrtime.bigint();
for (let i = 0; i < n; i++) closeSync(openSync('/lab/graph-target', 'r'));
writeFileSync('${OUT}', String(process.hrtime.bigint() - t));
`);

const SCRIPT = `T=/sys/kernel/tracing
echo do_sys_openat2 > $T/set_graph_function
echo $((${DEPTH} + 1)) > $T/max_graph_depth
echo 1 > $T/options/funcgraph-proc
echo 1 > $T/options/funcgraph-tail
echo function_graph > $T/current_tracer
cat $T/trace_pipe > /dev/null &
reader=$!
"$@"
kill $reader
wait $reader
echo nop > $T/current_tracer
echo > $T/set_graph_function
`;
writeFileSync('/lab/fgraph.sh', SCRIPT);

function run(argv) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => resolve({ code, err }));
  });
}

const loop = [process.execPath, LOOP, String(N)];
const modes = {
  untraced: loop,
  script: ['/bin/sh', '/lab/fgraph.sh', ...loop],
  ftrace: [process.execPath, '/lab/client/dist/cli.js', 'graph', 'do_sys_openat2', '--engine', 'ftrace', '-d', DEPTH, '--', ...loop],
  bpf: [process.execPath, '/lab/client/dist/cli.js', 'graph', 'do_sys_openat2', '--engine', 'bpf', '-d', DEPTH, '--server', 'http://127.0.0.1:9', '--', ...loop],
};
const samples = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
const errors = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const [mode, argv] of Object.entries(modes)) {
    writeFileSync(OUT, '');
    const res = await run(argv);
    const ns = Number(readFileSync(OUT, 'utf8') || NaN);
    if (res.code !== 0 || !(ns > 0)) errors.push({ mode, code: res.code, err: res.err.slice(-600) });
    else samples[mode].push(ns / N);
  }
}
process.stdout.write(`${MARKER} ${JSON.stringify({ check: 'graph-bench', ok: errors.length === 0, samples, errors, calls: N })}\n`);
