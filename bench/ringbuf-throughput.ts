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
 *   paced: a workload emits ~100 k records/s for a few seconds while the consumer polls; reports
 *     delivered vs produced, the kernel's count of records it could not place, and seq gaps.
 *
 * Run as root: node --import tsx bench/ringbuf-throughput.ts [capacity|paced]   (default both)
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { loadNative } from '../client/src/native/index.ts';
import { createMaps, RecordBatch } from '../client/src/maps/index.ts';
import type { RawAddon } from '../client/src/native/raw-addon.ts';
import { fixtureBuilder } from '../client/test/native-fixtures.ts';
import { median } from './stats.ts';

const MODE = process.argv[2] ?? 'all';
const FIXTURES = join(import.meta.dirname, 'fixtures');
const LBC_INCLUDE = resolve(import.meta.dirname, '..', 'services', 'core', 'include');
const MULTIARCH = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

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
const objectFile = join(fixtures.dir, 'ringbuf-bench.bpf.o');
execFileSync('clang-16', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${MULTIARCH}`, '-I', fixtures.dir, '-I', LBC_INCLUDE, '-c', join(FIXTURES, 'ringbuf-bench.bpf.c'), '-o', objectFile]);
const consumer = join(fixtures.dir, 'ringbuf-consumer');
execFileSync('cc', ['-O2', '-o', consumer, join(FIXTURES, 'ringbuf-consumer.c'), '-lbpf', '-lelf', '-lz']);

interface Delivery {
  received: number;
  ms: number;
  /** Records the kernel could not place (ring full). */
  dropped: number;
  /** Breaks in the sequence numbers as received. */
  gaps: number;
  /** The producer's own rate (records/s), as it reports it. */
  produced?: number;
}

/** The producer prints "produced N in S s" on stderr. */
function producedRate(stderr: string): number | undefined {
  const m = /produced (\d+) in ([\d.]+) s/.exec(stderr);
  return m ? Number(m[1]) / Number(m[2]) : undefined;
}

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

const native = loadNative();
const object = native.openObject(readFileSync(objectFile), 'ringbuf_bench');
object.load();
const maps = createMaps(native, object, object.btf());
const link = object.attach('bench_rb_emit');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const controlFd = maps.control.fd;
const droppedCount = () => native.mapLookup(controlFd, u32(2), 4)!.readUInt32LE();

/** Runs the producer (N, RATE) on the program's target; resolves to its reported rate. */
async function runWorkload(args: string[]): Promise<number | undefined> {
  const child = spawn(workload, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  [child.pid!, 0, 0].forEach((v, i) => native.mapUpdate(controlFd, u32(i), u32(v), 0));
  child.stdin.end('go\n');
  await once(child, 'close');
  return producedRate(stderr);
}

type Path = 'batch' | 'typed' | 'arena' | 'copied' | 'lent';

// The addon as built, before loadNative() slices each batch into per-record Buffers.
const rawAddon = createRequire(import.meta.url)(resolve(import.meta.dirname, '..', 'client', 'native', 'build', 'Release', 'lbc_native.node')) as RawAddon;

/** Subscribes through one of the two JS paths with a callback per record, given its seq. */
function subscribe(path: Path, onRecord: (seq: number) => void): { close(): void } {
  if (path === 'typed') return maps.rb.openRingBuffer((event) => onRecord((event as { seq: number }).seq));
  if (path === 'lent') {
    return maps.rb.openRingBufferBatch((batch) => {
      for (let i = 0; i < batch.length; i++) onRecord(batch.arena.readUInt32LE(batch.start(i) + 4));
    });
  }
  if (path === 'copied') {
    const batch = new RecordBatch();
    return native.openRingBufferArena(maps.rb.fd, (arena, ends, count) => {
      batch.reset(arena, ends, undefined, count);
      for (let i = 0; i < batch.length; i++) onRecord(batch.arena.readUInt32LE(batch.start(i) + 4));
    });
  }
  if (path === 'arena') {
    return rawAddon.openRingBuffer(maps.rb.fd, (arena, ends) => {
      for (let i = 0, start = 0; i < ends.length; start = ends[i++]) onRecord(arena.readUInt32LE(start + 4));
    });
  }
  return native.openRingBuffer(maps.rb.fd, (records) => {
    for (const record of records) onRecord(record.readUInt32LE(4));
  });
}

/** `timed`: stamp first and last record (paced mode); the drain mode reads the clock once at the end. */
function counter(timed: boolean) {
  const c = { received: 0, gaps: 0, expected: 0, first: 0, last: 0 };
  const on = (seq: number) => {
    if (timed) {
      c.last = performance.now();
      if (c.received === 0) c.first = c.last;
    }
    c.received++;
    if (seq !== c.expected) c.gaps++;
    c.expected = seq + 1;
  };
  return { c, on };
}

async function drainJs(path: Path): Promise<Delivery> {
  await runWorkload([String(DRAIN_RECORDS), '0']);
  const { c, on } = counter(false);
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const start = performance.now();
  const sub = subscribe(path, (seq) => {
    on(seq);
    if (c.received === DRAIN_RECORDS) {
      c.last = performance.now();
      finished();
    }
  });
  const timer = setTimeout(() => {
    c.last = performance.now();
    finished();
  }, 5000);
  await done;
  clearTimeout(timer);
  sub.close();
  return { received: c.received, ms: c.last - start, dropped: droppedCount(), gaps: c.gaps };
}

async function pacedJs(path: Path): Promise<Delivery> {
  const { c, on } = counter(true);
  const sub = subscribe(path, on);
  const produced = await runWorkload([String(PACED_RECORDS), String(PACED_RATE)]);
  for (let seen = -1; seen !== c.received; ) {
    seen = c.received;
    await new Promise((r) => setTimeout(r, 200));
  }
  sub.close();
  return { received: c.received, ms: c.last - c.first, dropped: droppedCount(), gaps: c.gaps, produced };
}

const rate = (d: Delivery) => d.received / (d.ms / 1000);
const mps = (r: number) => `${(r / 1e6).toFixed(2)} M/s`;

async function capacity(): Promise<void> {
  const c = runC(['drain', String(DRAIN_RECORDS), String(WARMUP_ROUNDS + DRAIN_ROUNDS)]).slice(WARMUP_ROUNDS);
  const js: Record<Path, Delivery[]> = { batch: [], typed: [], arena: [], copied: [], lent: [] };
  for (const path of ['batch', 'typed', 'arena', 'copied', 'lent'] as const) {
    for (let i = 0; i < WARMUP_ROUNDS; i++) await drainJs(path);
    for (let i = 0; i < DRAIN_ROUNDS; i++) js[path].push(await drainJs(path));
  }
  const clean = (ds: Delivery[]) => ds.every((d) => d.received === DRAIN_RECORDS && d.dropped === 0 && d.gaps === 0);
  const summary = (label: string, ds: Delivery[]) =>
    `  ${label.padEnd(38)} median ${mps(median(ds.map(rate)))} (rounds ${ds.map((d) => (rate(d) / 1e6).toFixed(2)).join(' ')})${clean(ds) ? '' : '  INCOMPLETE: ' + JSON.stringify(ds.find((d) => d.received !== DRAIN_RECORDS || d.dropped || d.gaps))}`;
  const cRate = median(c.map(rate));
  const batchRate = median(js.batch.map(rate));
  const typedRate = median(js.typed.map(rate));
  console.log(`\n== capacity: drain ${DRAIN_RECORDS} records prefilled into a 64 MiB ring, ${DRAIN_ROUNDS} rounds after ${WARMUP_ROUNDS} uncounted`);
  console.log(summary('C libbpf ring_buffer__consume', c));
  console.log(summary('JS addon batch callback', js.batch));
  console.log(summary('JS LbcMap.openRingBuffer (typed)', js.typed));
  console.log(summary('JS addon arena, no per-record Buffer', js.arena));
  console.log(summary('JS addon libbpf copy into reused arena', js.copied));
  console.log(summary('JS LbcMap.openRingBufferBatch (in place)', js.lent));
  console.log(`  JS batch / C ${(batchRate / cRate).toFixed(2)}x, JS typed / C ${(typedRate / cRate).toFixed(2)}x (goal >= 0.5x); arena / C ${(median(js.arena.map(rate)) / cRate).toFixed(2)}x; libbpf copy reused / C ${(median(js.copied.map(rate)) / cRate).toFixed(2)}x; in place / C ${(median(js.lent.map(rate)) / cRate).toFixed(2)}x`);
  console.log(`  JS batch delivery ${batchRate >= 1e6 ? 'reaches' : 'does NOT reach'} 1 M events/s (${mps(batchRate)})`);
}

async function paced(): Promise<void> {
  const rows: Array<[string, Delivery]> = [['C libbpf ring_buffer__poll', runC(['paced', String(PACED_RECORDS), String(PACED_RATE)])[0]]];
  rows.push(['JS addon batch callback', await pacedJs('batch')]);
  rows.push(['JS LbcMap.openRingBuffer (typed)', await pacedJs('typed')]);
  rows.push(['JS LbcMap.openRingBufferBatch (in place)', await pacedJs('lent')]);
  console.log(`\n== paced: ${PACED_RECORDS} records produced at ${PACED_RATE / 1000} k/s while the consumer polls`);
  for (const [label, d] of rows) {
    const lost = PACED_RECORDS - d.received;
    console.log(
      `  ${label.padEnd(38)} produced at ${((d.produced ?? 0) / 1e3).toFixed(0)} k/s, delivered ${d.received} of ${PACED_RECORDS} over ${(d.ms / 1000).toFixed(2)} s; lost ${lost} (kernel ring-full count ${d.dropped}, seq gaps ${d.gaps})`,
    );
  }
}

try {
  if (MODE === 'all' || MODE === 'capacity') await capacity();
  if (MODE === 'all' || MODE === 'paced') await paced();
} finally {
  link.destroy();
  maps.close();
  object.close();
  fixtures.cleanup();
}
