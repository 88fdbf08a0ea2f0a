/**
 * Where a cold `lbc run` spends its time (issue 16: a new program's first event ≤ 1.5x bpftrace):
 * a new program each round through `lbc run --json` with the service up, the service writing a
 * timestamp at each stage of the request (LBC_STAGE_TIMING, services/core/src/stage-timing.ts:
 * HTTP arrival and answer, queueing, worker pickup, sandbox, blob store, job completion). The
 * marks are epoch times, lined up with the CLI's spawn and its first event line here; the report
 * is each stage's median offset from the spawn and the median step from the stage before. Each
 * round also runs the same program again (now in the client's cache: no request) and `bpftrace -e`
 * with a new program, so the price of compile + fetch is read against both at the same load.
 * Run: node --import tsx bench/cold-stages.ts [rounds]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { fmt, median, ratio, report } from './stats.ts';
import { startExecLoop, timeToLine } from './fixtures/processes.ts';
import { FIXTURES } from './fixtures/warm-cache.ts';
import { LBC_LAUNCHER } from './fixtures/built-client.ts';

const rounds = Number(process.argv[2] ?? 15);
const REPO = resolve(import.meta.dirname, '..');
const now = () => performance.timeOrigin + performance.now();

interface Mark {
  at: number;
  stage: string;
}

interface Sample {
  /** Spawn to the first event line. */
  total: number;
  /** The service's marks during the run, as offsets from the spawn. */
  marks: Mark[];
}

/** One line per mark: `<epoch ms> <pid> <stage> [detail]`; a URL detail is part of the stage's name (hashes left out). */
function readMarks(file: string): Mark[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [at, , stage, ...rest] = line.split(' ');
      const detail = rest.join(' ');
      const named = /^(GET|POST|PUT|\/)/.test(detail) ? `${stage} ${detail.replace(/[0-9a-f]{16,}/g, '<sha>').replace(/\?.*$/, '')}` : stage!;
      return { at: Number(at), stage: named };
    });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-bench-stages-'));
  const marksFile = join(dir, 'marks');
  const redis = await startPrivateRedis();
  const service = await startService({ redisUrl: redis.url, env: { LBC_STAGE_TIMING: marksFile } });
  const trigger = startExecLoop(0.002);
  const source = readFileSync(resolve(FIXTURES, 'benchexec.bpf.c'), 'utf8');
  let nonce = 0;
  const lbcRun = (file: string) =>
    timeToLine(LBC_LAUNCHER, ['run', '--json', '--server', service.url, '--cache-dir', join(dir, 'cache'), file], /"event"/, { cwd: REPO, timeoutMs: 60_000 });
  let program = '';
  const runNew = async (): Promise<Sample> => {
    const at = join(dir, `p${++nonce}`);
    mkdirSync(at);
    program = join(at, 'benchexec.bpf.c');
    writeFileSync(program, `${source}\n/* round ${nonce} ${process.pid} ${Date.now()} */\n`);
    writeFileSync(marksFile, '');
    const spawned = now();
    const run = await lbcRun(program);
    if (run.stderr.includes('cached object')) throw new Error(`lbc run took a cached object:\n${run.stderr}`);
    const end = spawned + run.ms;
    return { total: run.ms, marks: readMarks(marksFile).filter((m) => m.at >= spawned && m.at <= end).map((m) => ({ ...m, at: m.at - spawned })) };
  };
  try {
    await runNew(); // warm-up: the kernel set, the compile containers, the page cache
    const samples: Sample[] = [];
    const warm: number[] = [];
    const bpftrace: number[] = [];
    for (let i = 0; i < rounds; i++) {
      samples.push(await runNew());
      const again = await lbcRun(program);
      if (!again.stderr.includes('cached object')) throw new Error(`lbc run did not take the cached object:\n${again.stderr}`);
      warm.push(again.ms);
      bpftrace.push((await timeToLine('bpftrace', ['-e', `tracepoint:sched:sched_process_exec { printf("EXEC${++nonce} %d %s\\n", pid, comm); exit(); }`], /^EXEC/)).ms);
    }
    // A stage that repeats in a round counts its first time; stages in the order of their median offsets.
    const offset = (s: Sample, stage: string) => s.marks.find((m) => m.stage === stage)?.at;
    const medianAt = (stage: string) => median(samples.map((s) => offset(s, stage)).filter((v): v is number => v !== undefined));
    const order = [...new Set(samples.flatMap((s) => s.marks.map((m) => m.stage)))].sort((a, b) => medianAt(a) - medianAt(b));
    const rows: [string, string][] = [['spawn of lbc run', fmt(0)]];
    let before: string | undefined;
    for (const stage of order) {
      const at = samples.map((s) => offset(s, stage)).filter((v): v is number => v !== undefined);
      const steps = before === undefined ? at : samples.map((s) => (offset(s, stage) ?? NaN) - (offset(s, before!) ?? NaN)).filter((v) => !Number.isNaN(v));
      rows.push([stage, `at ${fmt(median(at))}   step ${fmt(median(steps))} (min ${fmt(Math.min(...steps))})${at.length < samples.length ? `   (in ${at.length}/${samples.length} rounds)` : ''}`]);
      before = stage;
    }
    const last = samples.map((s) => s.total - (offset(s, before!) ?? NaN)).filter((v) => !Number.isNaN(v));
    rows.push(['first event line', `at ${fmt(median(samples.map((s) => s.total)))}   step ${fmt(median(last))}  (min total ${fmt(Math.min(...samples.map((s) => s.total)))})`]);
    report(`a cold lbc run, stage by stage (${rounds} rounds, a new program each; medians from the spawn)`, rows);
    // The farm's own time around the container: POST arrival to answer sent, less launch → output.
    const around = samples
      .map((s) => (offset(s, 'api.response /v1/compile') ?? NaN) - (offset(s, 'api.request POST /v1/compile') ?? NaN) - ((offset(s, 'worker.output') ?? NaN) - (offset(s, 'worker.launch') ?? NaN)))
      .filter((v) => !Number.isNaN(v));
    const cold = samples.map((s) => s.total);
    const fromPost = samples.map((s) => s.total - (offset(s, 'api.request POST /v1/compile') ?? NaN)).filter((v) => !Number.isNaN(v));
    report('the same rounds against the warm run and bpftrace (median, min)', [
      ['lbc run, a new program (cold)', `${fmt(median(cold))}  (min ${fmt(Math.min(...cold))})`],
      ['lbc run, the same program again (local cache, no request)', `${fmt(median(warm))}  (min ${fmt(Math.min(...warm))})`],
      ['bpftrace -e, a new program', `${fmt(median(bpftrace))}  (min ${fmt(Math.min(...bpftrace))})`],
      ['the farm around the container: POST arrival → answer sent, less launch → output', `${fmt(median(around))}  (min ${fmt(Math.min(...around))})`],
      ['POST arrival → first event line (cold)', `${fmt(median(fromPost))}  (min ${fmt(Math.min(...fromPost))})`],
      ['cold − warm, medians (what compile + fetch cost)', fmt(median(cold) - median(warm))],
      ['ratio cold / bpftrace, medians (goal <= 1.5x)', ratio(median(cold), median(bpftrace))],
      ['ratio warm / bpftrace, medians', ratio(median(warm), median(bpftrace))],
    ]);
  } finally {
    await trigger.stop();
    await service.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
