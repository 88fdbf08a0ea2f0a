/**
 * Process start to first decoded event with a warm client cache (issue 3), vs bpftrace doing the
 * same, measured in one run. Each tool is spawned as a fresh process while a shell loop execs
 * /bin/true; the time is from spawn until the first exec event line on its stdout — goal lbc ≤ 1x.
 * The service is stopped before measuring: the lbc object comes from the local cache.
 * The variants run in interleaved rounds (one of each per round), so a load change on the machine
 * shifts all of them alike; medians and minima are reported.
 * lbc is measured as users run it: `lbc run` (bin/lbc: the CLI's startup snapshot) and a script
 * importing lbc-client (`node app.mjs`, dist/), plus the same without the snapshot.
 * NODE_EXTRA_CA_CERTS, when set, costs node 20 tens of ms at every start; bin/lbc hands it over to
 * the client instead (read on HTTPS only), a plain `node app.mjs` pays it: both are shown.
 * Then the cold case (issue 16, goal ≤ 1.5x bpftrace): a new program each round, a source nobody
 * compiled before, through `lbc run` with the service up: compile + fetch + load + attach + first
 * event, against `bpftrace -e` with a program of its own each round (it compiles every time anyway).
 * Run: node --import tsx bench/first-event.ts [rounds]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { fmt, median, ratio, report } from './stats.ts';
import { startExecLoop, timeToLine, type FirstLine } from './fixtures/processes.ts';
import { DEAD_SERVER, FIXTURES, warmCache } from './fixtures/warm-cache.ts';
import { LBC_BIN, LBC_LAUNCHER } from './fixtures/built-client.ts';

const rounds = Number(process.argv[2] ?? 15);
const REPO = resolve(import.meta.dirname, '..');
const node = process.execPath;
const { NODE_EXTRA_CA_CERTS: extraCa, ...envWithoutCa } = process.env;

interface ClientTimings {
  entered: number;
  imported: number;
  attached: number;
  firstEvent: number;
  origin: string;
}

interface Variant {
  name: string;
  run: () => Promise<FirstLine>;
  samples: FirstLine[];
}

const variant = (name: string, run: () => Promise<FirstLine>): Variant => ({ name, run, samples: [] });

async function main() {
  const cache = await warmCache();
  const trigger = startExecLoop(0.002);
  const scriptArgs = [resolve(FIXTURES, 'exec-client.mjs'), cache.cacheDir, DEAD_SERVER, '--once'];
  const runArgs = ['run', '--json', '--server', DEAD_SERVER, '--cache-dir', cache.cacheDir, resolve(FIXTURES, 'benchexec.bpf.c')];
  const bpftrace = variant('bpftrace -e (exit on first event)', () =>
    timeToLine('bpftrace', ['-e', 'tracepoint:sched:sched_process_exec { printf("EXEC %d %s\\n", pid, comm); exit(); }'], /^EXEC /),
  );
  const cli = variant('lbc run --json (bin/lbc: startup snapshot)', () => timeToLine(LBC_LAUNCHER, runArgs, /"event"/, { cwd: REPO }));
  const cliPlain = variant('node bin/lbc.mjs run --json (dist/cli.js, no snapshot)', () =>
    timeToLine(node, [LBC_BIN, ...runArgs], /"event"/, { cwd: REPO }),
  );
  const app = variant('node exec-client.mjs (lbc-client dist/)', () => timeToLine(node, scriptArgs, /^EXEC /, { cwd: REPO }));
  const bare = variant('bare node -e', () => timeToLine(node, ['-e', 'console.log("EXEC")'], /^EXEC/));
  const variants = [bpftrace, cli, cliPlain, app, bare];
  const appNoCa = variant('node exec-client.mjs, NODE_EXTRA_CA_CERTS unset', () =>
    timeToLine(node, scriptArgs, /^EXEC /, { cwd: REPO, env: envWithoutCa }),
  );
  const bareNoCa = variant('bare node -e, NODE_EXTRA_CA_CERTS unset', () => timeToLine(node, ['-e', 'console.log("EXEC")'], /^EXEC/, { env: envWithoutCa }));
  if (extraCa) variants.push(appNoCa, bareNoCa);
  try {
    for (const v of variants) await v.run(); // warm-up: page cache
    for (let i = 0; i < rounds; i++) for (const v of variants) v.samples.push(await v.run());
    for (const s of [...cli.samples, ...cliPlain.samples]) if (!s.stderr.includes('cached object')) throw new Error(`lbc run did not take the cached object:\n${s.stderr}`);

    const med = (v: Variant) => median(v.samples.map((s) => s.ms));
    const min = (v: Variant) => Math.min(...v.samples.map((s) => s.ms));
    report(`process start → first exec event, warm cache, service stopped (${rounds} interleaved rounds; median, min)`, [
      ...variants.map((v): [string, string] => [v.name, `${fmt(med(v))}  (min ${fmt(min(v))})`]),
      ['ratio lbc run / bpftrace, medians (goal <= 1x)', ratio(med(cli), med(bpftrace))],
      ['ratio lbc run / bpftrace, minima', ratio(min(cli), min(bpftrace))],
      ['ratio lbc script / bpftrace, medians', ratio(med(app), med(bpftrace))],
      ['NODE_EXTRA_CA_CERTS in this environment', extraCa ? `set (${extraCa})` : 'unset'],
    ]);

    const phases = app.samples.map((s) => JSON.parse(s.stderr.trim().split('\n').pop()!) as ClientTimings);
    if (phases.some((p) => p.origin !== 'cache')) throw new Error('exec-client did not take the cached object');
    const phase = (f: (p: ClientTimings) => number) => fmt(median(phases.map(f)));
    report("where the lbc script spends it (medians; in-process times from node's time origin)", [
      ['time origin → script entered', phase((p) => p.entered)],
      ["import('lbc-client') (dist/ + addon)", phase((p) => p.imported - p.entered)],
      ['new Lbc(...).ready (cache read, load, attach)', phase((p) => p.attached - p.imported)],
      ['attached → first event decoded', phase((p) => p.firstEvent - p.attached)],
      ['lbc script − bare node -e', fmt(med(app) - med(bare))],
    ]);
  } finally {
    cache.remove();
  }
  try {
    await cold();
  } finally {
    await trigger.stop();
  }
}

/** A new program every round: the service compiles it (its kernel set is warm), the client fetches, loads and attaches it. */
async function cold(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-bench-cold-'));
  const redis = await startPrivateRedis();
  const service = await startService({ redisUrl: redis.url });
  const source = readFileSync(resolve(FIXTURES, 'benchexec.bpf.c'), 'utf8');
  let nonce = 0;
  const lbcNew = () => {
    const at = join(dir, `p${++nonce}`);
    mkdirSync(at);
    writeFileSync(join(at, 'benchexec.bpf.c'), `${source}\n/* round ${nonce} ${process.pid} ${Date.now()} */\n`);
    return timeToLine(LBC_LAUNCHER, ['run', '--json', '--server', service.url, '--cache-dir', join(dir, 'cache'), join(at, 'benchexec.bpf.c')], /"event"/, { cwd: REPO, timeoutMs: 60_000 });
  };
  const lbcCold = variant('lbc run --json, a new program (compile on the service, fetch, load, attach)', lbcNew);
  const bpftraceCold = variant('bpftrace -e, a new program (exit on first event)', () =>
    timeToLine('bpftrace', ['-e', `tracepoint:sched:sched_process_exec { printf("EXEC${++nonce} %d %s\\n", pid, comm); exit(); }`], /^EXEC/),
  );
  try {
    await lbcNew(); // warm-up: the kernel set, the compile container, the page cache
    for (let i = 0; i < rounds; i++) for (const v of [lbcCold, bpftraceCold]) v.samples.push(await v.run());
    for (const s of lbcCold.samples) if (s.stderr.includes('cached object')) throw new Error(`lbc run took a cached object in the cold case:\n${s.stderr}`);
    const med = (v: Variant) => median(v.samples.map((s) => s.ms));
    const min = (v: Variant) => Math.min(...v.samples.map((s) => s.ms));
    report(`process start → first exec event, a new program each round, service up (${rounds} interleaved rounds; median, min)`, [
      ...[lbcCold, bpftraceCold].map((v): [string, string] => [v.name, `${fmt(med(v))}  (min ${fmt(min(v))})`]),
      ['ratio lbc run / bpftrace, medians (goal <= 1.5x)', ratio(med(lbcCold), med(bpftraceCold))],
      ['ratio lbc run / bpftrace, minima', ratio(min(lbcCold), min(bpftraceCold))],
    ]);
  } finally {
    await service.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
