/**
 * Ring-buffer records (64 bytes) delivered to JS vs a C libbpf consumer of the same program
 * (bench/fixtures/ringbuf-bench.bpf.c, one record per getppid() of a target process), in one run.
 *
 *   capacity: a workload fills the 64 MiB ring while nothing reads it, then the consumer opens the
 *     ring and drains it; events/s = records / (open to last record). No producer competes for
 *     the CPUs and nothing is dropped, so this is the consumer's own delivery rate. JS is measured
 *     through the addon's batch callback (one Buffer per record, NativeAddon.openRingBuffer) and
 *     LbcMap.openRingBuffer (typed decode); the addon's raw form (one arena + record ends, before
 *     the per-record Buffers) is shown as well, to tell the native side's cost from the JS side's,
 *     the addon's libbpf copy into storage reused batch to batch (openRingBufferArena), and
 *     LbcMap.openRingBufferBatch (records read in place in the ring, openRingBufferView).
 *     Every consumer, C or JS, runs in a process of its own (bench/ringbuf-js-consumer.ts), as an
 *     application would, so no JS path pays for the garbage another left on the heap.
 *   paced: a workload emits ~100 k records/s for a few seconds while the consumer polls; reports
 *     delivered vs produced, the kernel's count of records it could not place, and seq gaps.
 *
 * Run as root: node --import tsx bench/ringbuf-throughput.ts [capacity|paced] [path...]   (default
 * both, every path; paths: batch typed arena copied lent)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fixtureBuilder } from '@lbc/test-support/native-fixtures';
import { BENCH_FIXTURES, compileLbcObject } from './fixtures/lbc-object.ts';
import { PATHS as ALL_PATHS, producedRate, type Delivery, type Path } from './ringbuf-delivery.ts';
import { median } from './stats.ts';

const MODE = process.argv[2] ?? 'all';
const PATHS = process.argv.length > 3 ? ALL_PATHS.filter((p) => process.argv.slice(3).includes(p)) : ALL_PATHS;
const FIXTURES = BENCH_FIXTURES;

// 64 MiB ring / (64-byte record + 8-byte header) = 932067 records: fill it about half way, so the
// fixed cost of opening and the first wake-up does not dominate the drain time.
const DRAIN_RECORDS = 500_000;
const DRAIN_ROUNDS = 10;
// Rounds run first and not counted, alike for C and JS: the steady state is what a long-running
// consumer sees (JS code is optimised after its first calls; C pays first-touch faults once too).
const WARMUP_ROUNDS = 2;
const PACED_RATE = 100_000;
const PACED_RECORDS = 3 * PACED_RATE;

const fixtures = fixtureBuilder();
const workload = join(fixtures.dir, 'getppid-producer');
execFileSync('cc', ['-O2', '-o', workload, join(FIXTURES, 'getppid-producer.c')]);
const objectFile = compileLbcObject(fixtures, join(FIXTURES, 'ringbuf-bench.bpf.c'), 'ringbuf-bench');
const consumer = join(fixtures.dir, 'ringbuf-consumer');
execFileSync('cc', ['-O2', '-o', consumer, join(FIXTURES, 'ringbuf-consumer.c'), '-lbpf', '-lelf', '-lz']);

function runC(args: string[]): Delivery[] {
  const run = spawnSync(consumer, [objectFile, workload, ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`C consumer exited ${run.status}: ${run.stderr}`);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [received, ms, dropped, gaps] = line.split(' ').map(Number);
      return { received, ms, dropped, gaps, produced: producedRate(run.stderr) };
    });
}

/** Runs one JS consumer in a process of its own (bench/ringbuf-js-consumer.ts). */
function runJs(path: Path, args: string[]): Delivery[] {
  const run = spawnSync(process.execPath, [...process.execArgv, join(import.meta.dirname, 'ringbuf-js-consumer.ts'), objectFile, workload, path, ...args], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`JS consumer (${path}) exited ${run.status}: ${run.stderr}`);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Delivery);
}

const LABELS: Record<Path, string> = {
  batch: 'JS addon batch callback',
  typed: 'JS LbcMap.openRingBuffer (typed)',
  arena: 'JS addon arena, no per-record Buffer',
  copied: 'JS addon libbpf copy into reused arena',
  lent: 'JS LbcMap.openRingBufferBatch (in place)',
};
const rate = (d: Delivery) => d.received / (d.ms / 1000);
const mps = (r: number) => `${(r / 1e6).toFixed(2)} M/s`;

function capacity(): void {
  const c = runC(['drain', String(DRAIN_RECORDS), String(WARMUP_ROUNDS + DRAIN_ROUNDS)]).slice(WARMUP_ROUNDS);
  const js = {} as Record<Path, Delivery[]>;
  for (const path of PATHS) js[path] = runJs(path, ['drain', String(DRAIN_RECORDS), String(WARMUP_ROUNDS + DRAIN_ROUNDS)]).slice(WARMUP_ROUNDS);
  const clean = (ds: Delivery[]) => ds.every((d) => d.received === DRAIN_RECORDS && d.dropped === 0 && d.gaps === 0);
  const summary = (label: string, ds: Delivery[]) =>
    `  ${label.padEnd(38)} median ${mps(median(ds.map(rate)))} (rounds ${ds.map((d) => (rate(d) / 1e6).toFixed(2)).join(' ')})${clean(ds) ? '' : '  INCOMPLETE: ' + JSON.stringify(ds.find((d) => d.received !== DRAIN_RECORDS || d.dropped || d.gaps))}`;
  const cRate = median(c.map(rate));
  console.log(`\n== capacity: drain ${DRAIN_RECORDS} records prefilled into a 64 MiB ring, ${DRAIN_ROUNDS} rounds after ${WARMUP_ROUNDS} uncounted`);
  console.log(summary('C libbpf ring_buffer__consume', c));
  for (const path of PATHS) console.log(`${summary(LABELS[path], js[path])}  = ${(median(js[path].map(rate)) / cRate).toFixed(2)}x C`);
  console.log('  goal: >= 0.5x C delivered to a JS callback per record; >= 1 M events/s in batch delivery');
  if (PATHS.includes('batch')) {
    const batchRate = median(js.batch.map(rate));
    console.log(`  JS batch delivery ${batchRate >= 1e6 ? 'reaches' : 'does NOT reach'} 1 M events/s (${mps(batchRate)})`);
  }
}

function paced(): void {
  const rows: Array<[string, Delivery]> = [['C libbpf ring_buffer__poll', runC(['paced', String(PACED_RECORDS), String(PACED_RATE)])[0]]];
  for (const path of PATHS.filter((p) => p === 'batch' || p === 'typed' || p === 'lent')) rows.push([LABELS[path], runJs(path, ['paced', String(PACED_RECORDS), String(PACED_RATE)])[0]]);
  console.log(`\n== paced: ${PACED_RECORDS} records produced at ${PACED_RATE / 1000} k/s while the consumer polls`);
  for (const [label, d] of rows) {
    const lost = PACED_RECORDS - d.received;
    console.log(
      `  ${label.padEnd(38)} produced at ${((d.produced ?? 0) / 1e3).toFixed(0)} k/s, delivered ${d.received} of ${PACED_RECORDS} over ${(d.ms / 1000).toFixed(2)} s; lost ${lost} (kernel ring-full count ${d.dropped}, seq gaps ${d.gaps})`,
    );
  }
}

try {
  if (MODE === 'all' || MODE === 'capacity') capacity();
  if (MODE === 'all' || MODE === 'paced') paced();
} finally {
  fixtures.cleanup();
}
