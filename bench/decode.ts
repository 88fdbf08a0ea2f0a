/**
 * Typed event decoding, ns per record: the decoder compiled from BTF (client/src/values) against
 * baselines measured in the same run on the same records.
 *
 *   struct event: the ring-buffer benchmark's 64-byte { u32 pid; u32 seq; char comm[16];
 *     u8 pad[40]; } (bench/fixtures/ringbuf-bench.bpf.c, built as bench/ringbuf-throughput.ts
 *     builds it). Baselines: a hand-written reader giving the same values the plain way
 *     (Buffer.toString up to the NUL, a loop over the pad bytes); one reading pid and seq only,
 *     the floor of an object with two numbers; Buffer.toString of the comm bytes alone.
 *   struct exec_event: a 120-byte exec-tracing record with 64-bit fields (timestamp, cgroup id)
 *     and two strings; baseline a hand-written reader with Buffer's readers.
 *
 * Records lie in one arena 8 bytes apart (a ring buffer's record header), as a stream hands them
 * over. Then ASCII strings alone: String.fromCharCode in JS (the decoder's char[N] fast path) vs
 * Buffer.toString by string length, to show where they cross over.
 *
 * Times are CPU time of this process (GC threads included), medians over rounds in which the
 * readers take turns: the benchmark machine is shared, and time spent descheduled is not the
 * decoder's.
 *
 * Run: node --import tsx bench/decode.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBtf, type Btf } from '@lbc/btf';
import { ElfFile } from '../client/src/elf/index.ts';
import { codecFor, type Codec } from '../client/src/values/index.ts';
import { asciiFromCharCodes, JS_STRING_MAX } from '../client/src/values/c-string.ts';
import { fixtureBuilder } from '@lbc/test-support/native-fixtures';
import { BENCH_FIXTURES, compileLbcObject } from './fixtures/lbc-object.ts';
import { median } from './stats.ts';


const RECORDS = 4096;
const HEADER = 8;
const ROUNDS = 7;
/** Passes over the arena per round: ~260 k records a round. */
const PASSES = 64;

const EXEC_EVENT = `
typedef unsigned long long u64;
typedef int s32;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
struct exec_event {
	u64 ts;
	u32 pid, tgid, uid, gid;
	u64 cgroup;
	s32 ret;
	u16 flags;
	u8 cpu, pad0;
	char comm[16];
	char filename[64];
};
struct exec_event exec_sample;
`;

function compileBtfs(): { ring: Btf; exec: Btf } {
  const fixtures = fixtureBuilder();
  try {
    const build = (source: string, name: string) =>
      parseBtf(new ElfFile(readFileSync(compileLbcObject(fixtures, source, name))).sectionData('.BTF')!);
    const execSource = join(fixtures.dir, 'exec-event.bpf.c');
    writeFileSync(execSource, EXEC_EVENT);
    return { ring: build(join(BENCH_FIXTURES, 'ringbuf-bench.bpf.c'), 'ringbuf-bench'), exec: build(execSource, 'exec-event') };
  } finally {
    fixtures.cleanup();
  }
}

function codecOf(btf: Btf, cType: string): Codec {
  const id = btf.lookupCType(cType);
  if (id === undefined) throw new Error(`${cType} is not in the object's BTF`);
  return codecFor(btf, id);
}

/** RECORDS records of `size` bytes, each after an 8-byte header; fill(b, o, i) writes record i at o. */
function arena(size: number, fill: (b: Buffer, o: number, i: number) => void): { b: Buffer; stride: number } {
  const stride = HEADER + size;
  const b = Buffer.alloc(RECORDS * stride);
  for (let i = 0; i < RECORDS; i++) fill(b, i * stride + HEADER, i);
  return { b, stride };
}

type Reader = (b: Buffer, o: number) => unknown;

function cString(b: Buffer, o: number, n: number): string {
  let e = o;
  while (e < o + n && b[e] !== 0) e++;
  return b.toString('utf8', o, e);
}

const event = {
  handWritten: ((b, o) => {
    const pad = new Array<number>(40);
    for (let j = 0; j < 40; j++) pad[j] = b[o + 24 + j]!;
    return { pid: b.readUInt32LE(o), seq: b.readUInt32LE(o + 4), comm: cString(b, o + 8, 16), pad };
  }) as Reader,
  fieldsOnly: ((b, o) => ({ pid: b.readUInt32LE(o), seq: b.readUInt32LE(o + 4) })) as Reader,
  commOnly: ((b, o) => cString(b, o + 8, 16)) as Reader,
  records: (comm: (i: number) => Buffer) =>
    arena(64, (b, o, i) => {
      b.writeUInt32LE(4242, o);
      b.writeUInt32LE(i, o + 4);
      comm(i).copy(b, o + 8, 0, 16);
      for (let j = 0; j < 40; j++) b[o + 24 + j] = (i + j) & 0xff;
    }),
};

const execEvent = {
  handWritten: ((b, o) => ({
    ts: b.readBigUInt64LE(o),
    pid: b.readUInt32LE(o + 8),
    tgid: b.readUInt32LE(o + 12),
    uid: b.readUInt32LE(o + 16),
    gid: b.readUInt32LE(o + 20),
    cgroup: b.readBigUInt64LE(o + 24),
    ret: b.readInt32LE(o + 32),
    flags: b.readUInt16LE(o + 36),
    cpu: b[o + 38],
    pad0: b[o + 39],
    comm: cString(b, o + 40, 16),
    filename: cString(b, o + 56, 64),
  })) as Reader,
  records: () =>
    arena(120, (b, o, i) => {
      b.writeBigUInt64LE(1_700_000_000_000_000_000n + BigInt(i) * 1237n, o);
      b.writeUInt32LE(100000 + i, o + 8);
      b.writeUInt32LE(100000 + i, o + 12);
      b.writeUInt32LE(1000, o + 16);
      b.writeUInt32LE(1000, o + 20);
      b.writeBigUInt64LE(0x2a5dn + BigInt(i % 5), o + 24);
      b.writeInt32LE(i % 3 === 0 ? -2 : 0, o + 32);
      b.writeUInt16LE(i & 0xff, o + 36);
      b[o + 38] = i % 2;
      b.write(['true', 'sh', 'getppid-produce', 'node'][i % 4]!, o + 40);
      b.write(['/usr/bin/true', '/bin/sh', '/tmp/bench/getppid-producer', '/usr/local/bin/node'][i % 4]!, o + 56);
    }),
};

/** CPU time of this process in ns. */
function cpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1e3;
}

/** ns per record over PASSES passes; each value is used, and the readers are not inlined here (many), so each is built whole. */
function timeReader(read: Reader, b: Buffer, stride: number): { ns: number; sink: number } {
  let sink = 0;
  const t0 = cpuNs();
  for (let p = 0; p < PASSES; p++) {
    for (let i = 0; i < RECORDS; i++) {
      const v = read(b, i * stride + HEADER) as { pid: number } | string;
      sink = (sink + (typeof v === 'string' ? v.length : v.pid)) | 0;
    }
  }
  return { ns: (cpuNs() - t0) / (PASSES * RECORDS), sink };
}

/** Medians over ROUNDS, the readers interleaved round by round so machine noise hits them alike. */
function compare(readers: Record<string, Reader>, { b, stride }: { b: Buffer; stride: number }): Record<string, number> {
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [name, read] of Object.entries(readers)) {
      const { ns } = timeReader(read, b, stride);
      if (round === 0) continue; // warm-up: optimised code is what a long-running consumer runs
      (samples[name] ??= []).push(ns);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s)]));
}

function printTable(title: string, rows: Record<string, number>, reference: string): void {
  console.log(`\n== ${title}`);
  const width = Math.max(...Object.keys(rows).map((k) => k.length));
  for (const [name, ns] of Object.entries(rows)) {
    const ratio = name === reference ? '' : `  (${(ns / rows[reference]!).toFixed(2)}x ${reference})`;
    console.log(`  ${name.padEnd(width)}  ${ns.toFixed(1).padStart(6)} ns/record  ${(1e3 / ns).toFixed(1).padStart(5)} M/s${ratio}`);
  }
}

/** The times mean nothing unless the decoder gives what the hand-written reader gives. */
function sameValues(codec: Codec, handWritten: Reader, { b, stride }: { b: Buffer; stride: number }): void {
  const show = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
  for (let i = 0; i < 8; i++) {
    const o = i * stride + HEADER;
    if (show(codec.decode(b, o)) !== show(handWritten(b, o))) throw new Error(`${codec.cType}: the decoder gives ${show(codec.decode(b, o))}, the hand-written reader ${show(handWritten(b, o))}`);
  }
}

const btfs = compileBtfs();
const eventCodec = codecOf(btfs.ring, 'struct event');
const execCodec = codecOf(btfs.exec, 'struct exec_event');

const eventCases: [string, ReturnType<typeof event.records>][] = [
  ['comm "getppid-produce" (15 ASCII bytes, every record)', event.records(() => Buffer.from('getppid-produce'))],
  ['comm of 3 to 15 ASCII bytes, varying record to record', event.records((i) => Buffer.from('abcdefghijklmnopqrstuvwxyz'.slice(i % 7, (i % 7) + 3 + (i % 13))))],
  ['comm "café-crème" (UTF-8, 12 bytes)', event.records(() => Buffer.from('café-crème'))],
];
for (const [title, records] of eventCases) {
  sameValues(eventCodec, event.handWritten, records);
  const rows = compare({
    'compiled decoder': (b, o) => eventCodec.decode(b, o),
    'hand-written, same values': event.handWritten,
    'hand-written, pid+seq only': event.fieldsOnly,
    'Buffer.toString of comm only': event.commOnly,
  }, records);
  printTable(`struct event (64 bytes), ${title}`, rows, 'compiled decoder');
}

const execRecords = execEvent.records();
sameValues(execCodec, execEvent.handWritten, execRecords);
printTable('struct exec_event (120 bytes: 2 x u64, 7 smaller integers, comm[16], filename[64])', compare({
  'compiled decoder': (b, o) => execCodec.decode(b, o),
  'hand-written, Buffer readers': execEvent.handWritten,
}, execRecords), 'compiled decoder');

// Strings alone, by length: where String.fromCharCode in JS stops beating Buffer.toString's C++
// (c-string.ts makes strings up to JS_STRING_MAX bytes in JS). The switch is built to 64 cases,
// about the most V8 still optimises.
const fromCharCodes = asciiFromCharCodes(64);
const COLUMNS = [8, 14, 9, 9, 14];
const crossover: string[] = [];
for (const length of [1, 4, 8, 15, 24, 32, 40, 48, 56, 64]) {
  const strings = arena(64, (b, o, i) => {
    for (let j = 0; j < length; j++) b[o + j] = 0x61 + ((i + j) % 26);
  });
  const ns = compare({
    js: (b, o) => fromCharCodes(b, o, length),
    latin1: (b, o) => b.toString('latin1', o, o + length),
    utf8: (b, o) => b.toString('utf8', o, o + length),
  }, strings);
  const cells = [String(length), ns.js!.toFixed(1), ns.latin1!.toFixed(1), ns.utf8!.toFixed(1), `${(Math.min(ns.latin1!, ns.utf8!) / ns.js!).toFixed(2)}x`];
  crossover.push(cells.map((c, i) => c.padStart(COLUMNS[i]!)).join(''));
}
console.log(`\n== ASCII string of N bytes, ns/string (the decoder makes up to JS_STRING_MAX = ${JS_STRING_MAX} in JS)`);
console.log(['length', 'fromCharCode', 'latin1', 'utf8', 'toString/JS'].map((h, i) => h.padStart(COLUMNS[i]!)).join(''));
console.log(crossover.join('\n'));
