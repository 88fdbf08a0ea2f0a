/**
 * Process start to first decoded event with a warm client cache (issue 3), vs bpftrace doing the
 * same, measured in one run. Each tool is spawned as a fresh process while a shell loop execs
 * /bin/true; the time is from spawn until the first exec event line on its stdout — goal lbc ≤ 1x.
 * The service is stopped before measuring: the lbc object comes from the local cache.
 * Run: node --import tsx bench/first-event.ts [runs]
 */
import { resolve } from 'node:path';
import { fmt, median, ratio, report } from './stats.ts';
import { startExecLoop, timeToLine, type FirstLine } from './fixtures/processes.ts';
import { DEAD_SERVER, FIXTURES, warmCache } from './fixtures/warm-cache.ts';

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
    const script = await sample(runs, () =>
      timeToLine(node, ['--import', 'tsx', resolve(FIXTURES, 'exec-client.ts'), cache.cacheDir, DEAD_SERVER, '--once'], /^EXEC /, { cwd: REPO }),
    );
    const cli = await sample(runs, () =>
      timeToLine(node, [resolve(REPO, 'client/bin/lbc.mjs'), 'run', '--json', '--server', DEAD_SERVER, '--cache-dir', cache.cacheDir, resolve(FIXTURES, 'benchexec.bpf.c')], /"event"/, { cwd: REPO }),
    );
    for (const s of cli) if (!s.stderr.includes('cached object')) throw new Error(`lbc run did not take the cached object:\n${s.stderr}`);
    // What node itself costs before any lbc code runs: bare, and with the tsx loader registered.
    const bareNode = await sample(runs, () => timeToLine(node, ['-e', 'console.log("EXEC")'], /^EXEC/));
    const tsxNode = await sample(runs, () => timeToLine(node, ['--import', 'tsx', '-e', 'console.log("EXEC")'], /^EXEC/, { cwd: REPO }));

    const phases = script.map((s) => JSON.parse(s.stderr.trim().split('\n').pop()!) as ClientTimings);
    if (phases.some((p) => p.origin !== 'cache')) throw new Error('exec-client did not take the cached object');
    const phase = (f: (p: ClientTimings) => number) => fmt(median(phases.map(f)));

    report(`process start → first exec event, warm cache, service stopped (${runs} runs, medians)`, [
      ['bpftrace -e (exit on first event)', fmt(medianMs(bpftrace))],
      ['lbc script: node --import tsx bench/fixtures/exec-client.ts', fmt(medianMs(script))],
      ['lbc CLI: lbc run --json benchexec.bpf.c', fmt(medianMs(cli))],
      ['ratio lbc script / bpftrace (goal <= 1x)', ratio(medianMs(script), medianMs(bpftrace))],
      ['ratio lbc run / bpftrace (goal <= 1x)', ratio(medianMs(cli), medianMs(bpftrace))],
    ]);
    report('where the lbc script spends it (medians; in-process times from node\'s time origin)', [
      ['spawn → first line, bare node -e', fmt(medianMs(bareNode))],
      ['spawn → first line, node --import tsx -e', fmt(medianMs(tsxNode))],
      ['time origin → script entered (tsx compiles it)', phase((p) => p.entered)],
      ["import('lbc-client') (tsx + addon + modules)", phase((p) => p.imported - p.entered)],
      ['new Lbc(...).ready (cache read, load, attach)', phase((p) => p.attached - p.imported)],
      ['attached → first event decoded', phase((p) => p.firstEvent - p.attached)],
      ['lbc script without node+tsx start-up (script − tsx -e)', fmt(medianMs(script) - medianMs(tsxNode))],
      ['ratio of that / bpftrace', ratio(medianMs(script) - medianMs(tsxNode), medianMs(bpftrace))],
      ["lbc's own work: ready + first event", phase((p) => p.firstEvent - p.imported)],
      ['ratio of that / whole bpftrace process', ratio(median(phases.map((p) => p.firstEvent - p.imported)), medianMs(bpftrace))],
    ]);
  } finally {
    await trigger.stop();
    cache.remove();
  }
}

await main();
