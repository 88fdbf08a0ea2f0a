/**
 * Process start to first decoded event with a warm client cache (issue 3), vs bpftrace doing the
 * same, measured in one run. Each tool is spawned as a fresh process while a shell loop execs
 * /bin/true; the time is from spawn until the first exec event line on its stdout — goal lbc ≤ 1x.
 * The service is stopped before measuring: the lbc object comes from the local cache.
 * lbc is measured as users run it (the client's build: `node app.mjs`, `lbc run`), and from the
 * TypeScript sources through tsx for comparison.
 * Run: node --import tsx bench/first-event.ts [runs]
 */
import { resolve } from 'node:path';
import { fmt, median, ratio, report } from './stats.ts';
import { startExecLoop, timeToLine, type FirstLine } from './fixtures/processes.ts';
import { DEAD_SERVER, FIXTURES, warmCache } from './fixtures/warm-cache.ts';
import { LBC_BIN, LBC_CLI_SOURCE } from './fixtures/built-client.ts';

const runs = Number(process.argv[2] ?? 15);
const REPO = resolve(import.meta.dirname, '..');
const node = process.execPath;

interface ClientTimings {
  entered: number;
  imported: number;
  attached: number;
  firstEvent: number;
  origin: string;
}

async function sample(runsWanted: number, measure: () => Promise<FirstLine>): Promise<FirstLine[]> {
  await measure(); // warm-up: page cache, tsx's transform cache
  const out: FirstLine[] = [];
  for (let i = 0; i < runsWanted; i++) out.push(await measure());
  return out;
}

const medianMs = (samples: FirstLine[]) => median(samples.map((s) => s.ms));

async function main() {
  const cache = await warmCache();
  const trigger = startExecLoop(0.002);
  try {
    const bpftrace = await sample(runs, () =>
      timeToLine('bpftrace', ['-e', 'tracepoint:sched:sched_process_exec { printf("EXEC %d %s\\n", pid, comm); exit(); }'], /^EXEC /),
    );
    const script = resolve(FIXTURES, 'exec-client.mjs');
    const scriptArgs = [script, cache.cacheDir, DEAD_SERVER, '--once'];
    const runArgs = ['run', '--json', '--server', DEAD_SERVER, '--cache-dir', cache.cacheDir, resolve(FIXTURES, 'benchexec.bpf.c')];
    const app = await sample(runs, () => timeToLine(node, scriptArgs, /^EXEC /, { cwd: REPO }));
    const cli = await sample(runs, () => timeToLine(node, [LBC_BIN, ...runArgs], /"event"/, { cwd: REPO }));
    const appSource = await sample(runs, () => timeToLine(node, ['--import', 'tsx', '--conditions=lbc-source', ...scriptArgs], /^EXEC /, { cwd: REPO }));
    const cliSource = await sample(runs, () => timeToLine(node, ['--import', 'tsx', LBC_CLI_SOURCE, ...runArgs], /"event"/, { cwd: REPO }));
    for (const s of [...cli, ...cliSource]) if (!s.stderr.includes('cached object')) throw new Error(`lbc run did not take the cached object:\n${s.stderr}`);
    // What node itself costs before any lbc code runs: bare, and with the tsx loader registered.
    const bareNode = await sample(runs, () => timeToLine(node, ['-e', 'console.log("EXEC")'], /^EXEC/));
    const tsxNode = await sample(runs, () => timeToLine(node, ['--import', 'tsx', '-e', 'console.log("EXEC")'], /^EXEC/, { cwd: REPO }));

    const timings = (samples: FirstLine[]) => samples.map((s) => JSON.parse(s.stderr.trim().split('\n').pop()!) as ClientTimings);
    const phases = timings(app);
    if ([...phases, ...timings(appSource)].some((p) => p.origin !== 'cache')) throw new Error('exec-client did not take the cached object');
    const phase = (f: (p: ClientTimings) => number) => fmt(median(phases.map(f)));

    report(`process start → first exec event, warm cache, service stopped (${runs} runs, medians)`, [
      ['bpftrace -e (exit on first event)', fmt(medianMs(bpftrace))],
      ['lbc script: node exec-client.mjs (lbc-client dist/)', fmt(medianMs(app))],
      ['lbc CLI: lbc run --json benchexec.bpf.c (dist/cli.js)', fmt(medianMs(cli))],
      ['ratio lbc script / bpftrace (goal <= 1x)', ratio(medianMs(app), medianMs(bpftrace))],
      ['ratio lbc run / bpftrace (goal <= 1x)', ratio(medianMs(cli), medianMs(bpftrace))],
      ['from source: node --import tsx exec-client.mjs (src/)', fmt(medianMs(appSource))],
      ['from source: node --import tsx src/cli/main.ts run', fmt(medianMs(cliSource))],
      ['ratio from-source script / bpftrace', ratio(medianMs(appSource), medianMs(bpftrace))],
      ['ratio from-source lbc run / bpftrace', ratio(medianMs(cliSource), medianMs(bpftrace))],
    ]);
    report('where the built lbc script spends it (medians; in-process times from node\'s time origin)', [
      ['spawn → first line, bare node -e', fmt(medianMs(bareNode))],
      ['spawn → first line, node --import tsx -e (for comparison)', fmt(medianMs(tsxNode))],
      ['time origin → script entered', phase((p) => p.entered)],
      ["import('lbc-client') (dist/ + addon)", phase((p) => p.imported - p.entered)],
      ['new Lbc(...).ready (cache read, load, attach)', phase((p) => p.attached - p.imported)],
      ['attached → first event decoded', phase((p) => p.firstEvent - p.attached)],
      ['lbc script without node start-up (script − bare node -e)', fmt(medianMs(app) - medianMs(bareNode))],
      ["lbc's own work: ready + first event", phase((p) => p.firstEvent - p.imported)],
      ['ratio of that / whole bpftrace process', ratio(median(phases.map((p) => p.firstEvent - p.imported)), medianMs(bpftrace))],
    ]);
  } finally {
    await trigger.stop();
    cache.remove();
  }
}

await main();
