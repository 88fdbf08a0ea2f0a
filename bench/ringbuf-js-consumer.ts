/**
 * One JS consumer of bench/ringbuf-throughput.ts, in a process of its own as the C consumer is:
 * no path pays for the garbage or the code another path left behind.
 *
 *   node --import tsx bench/ringbuf-js-consumer.ts OBJECT WORKLOAD PATH drain N ROUNDS
 *   node --import tsx bench/ringbuf-js-consumer.ts OBJECT WORKLOAD PATH paced N RATE
 *
 * Prints one JSON Delivery per round (drain) or for the whole run (paced), like the C consumer.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { createMaps, RecordBatch, type RecordVisitor } from '../client/src/maps/index.ts';
import { addonPath } from '../client/src/native/addon-path.ts';
import { loadNative } from '../client/src/native/index.ts';
import type { RawAddon } from '../client/src/native/raw-addon.ts';
import { producedRate, type Delivery, type Path } from './ringbuf-delivery.ts';

const [objectFile, workload, path, mode, n, arg] = process.argv.slice(2) as [string, string, Path, 'drain' | 'paced', string, string];
const RECORDS = Number(n);

const native = loadNative();
const object = native.openObject(readFileSync(objectFile), 'ringbuf_bench');
object.load();
const mapSet = createMaps(native, object, object.btf());
const maps = mapSet.maps;
const link = object.attach('bench_rb_emit');
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
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

// The addon as built, before loadNative() slices each batch into per-record Buffers.
const rawAddon = createRequire(import.meta.url)(addonPath(resolve(import.meta.dirname, '..', 'client'))) as RawAddon;

/** Subscribes through `path` with a callback per record, given its seq. */
function subscribe(onRecord: (seq: number) => void): { close(): void } {
  if (path === 'typed') return maps.rb.openRingBuffer((event) => onRecord((event as { seq: number }).seq));
  if (path === 'lent') {
    const visit: RecordVisitor = (arena, start) => onRecord(arena.readUInt32LE(start + 4));
    return maps.rb.openRingBufferBatch((batch) => batch.forEach(visit));
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

async function drainJs(): Promise<Delivery> {
  await runWorkload([String(RECORDS), '0']);
  const { c, on } = counter(false);
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const start = performance.now();
  const sub = subscribe((seq) => {
    on(seq);
    if (c.received === RECORDS) {
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

async function pacedJs(rate: string): Promise<Delivery> {
  const { c, on } = counter(true);
  const sub = subscribe(on);
  const produced = await runWorkload([String(RECORDS), rate]);
  for (let seen = -1; seen !== c.received; ) {
    seen = c.received;
    await new Promise((r) => setTimeout(r, 200));
  }
  sub.close();
  return { received: c.received, ms: c.last - c.first, dropped: droppedCount(), gaps: c.gaps, produced };
}

try {
  if (mode === 'drain') {
    for (let round = 0; round < Number(arg); round++) console.log(JSON.stringify(await drainJs()));
  } else {
    console.log(JSON.stringify(await pacedJs(arg)));
  }
} finally {
  link.destroy();
  mapSet.close();
  object.close();
}
