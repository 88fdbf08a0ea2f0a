/**
 * Typed event decoding, ns per record: the decoder compiled from BTF (client/src/values) for the
 * ring-buffer benchmark's 64-byte `struct event { u32 pid; u32 seq; char comm[16]; u8 pad[40]; }`
 * (bench/fixtures/ringbuf-bench.bpf.c, built with clang-16 as bench/ringbuf-throughput.ts does),
 * against baselines measured in the same run on the same records:
 *   - hand-written reader of the same struct giving the same values the plain way
 *     (Buffer.toString up to the NUL, a loop over the pad bytes);
 *   - hand-written reader of pid and seq only: the floor, an object with two numbers;
 *   - Buffer.toString('utf8') of the comm bytes alone: one string made in C++.
 * Records lie 72 bytes apart in one arena (8-byte header + 64-byte record), as in a ring buffer.
 * Then ASCII strings alone: String.fromCharCode in JS (the decoder's char[N] fast path) vs
 * Buffer.toString by string length, to show where they cross over.
 *
 * Run: node --import tsx bench/decode.ts
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseBtf } from '@lbc/btf';
import { ElfFile } from '../client/src/elf/index.ts';
import { codecFor } from '../client/src/values/index.ts';
import { asciiFromCharCodes, JS_STRING_MAX } from '../client/src/values/c-string.ts';
import { fixtureBuilder } from '../client/test/native-fixtures.ts';
import { median } from './stats.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const LBC_INCLUDE = resolve(import.meta.dirname, '..', 'services', 'core', 'include');
const MULTIARCH = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';

const RECORDS = 4096;
const STRIDE = 72;
const HEADER = 8;
const ROUNDS = 7;
/** Passes over the arena per round: ~260 k records a round. */
const PASSES = 64;

function eventCodec() {
  const fixtures = fixtureBuilder();
  try {
    const objectFile = join(fixtures.dir, 'ringbuf-bench.bpf.o');
    execFileSync('clang-16', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${MULTIARCH}`, '-I', fixtures.dir, '-I', LBC_INCLUDE, '-c', join(FIXTURES, 'ringbuf-bench.bpf.c'), '-o', objectFile]);
    const btf = parseBtf(new ElfFile(readFileSync(objectFile)).sectionData('.BTF')!);
    const id = btf.lookupCType('struct event');
    if (id === undefined) throw new Error('struct event is not in the object\'s BTF');
    return codecFor(btf, id);
  } finally {
    fixtures.cleanup();
  }
}

/** RECORDS records; comm(i) gives record i's comm bytes (up to 16, NUL-padded). */
function arena(comm: (i: number) => Buffer): Buffer {
  const b = Buffer.alloc(RECORDS * STRIDE);
  for (let i = 0; i < RECORDS; i++) {
    const o = i * STRIDE + HEADER;
    b.writeUInt32LE(4242, o);
    b.writeUInt32LE(i, o + 4);
    comm(i).copy(b, o + 8, 0, 16);
    for (let j = 0; j < 40; j++) b[o + 24 + j] = (i + j) & 0xff;
  }
  return b;
}

interface Event {
  pid: number;
  seq: number;
  comm: string;
  pad: number[];
}

type Reader = (b: Buffer, o: number) => unknown;

const handWritten: Reader = (b, o) => {
  let e = o + 8;
  while (e < o + 24 && b[e] !== 0) e++;
  const pad = new Array<number>(40);
  for (let j = 0; j < 40; j++) pad[j] = b[o + 24 + j]!;
  return { pid: b.readUInt32LE(o), seq: b.readUInt32LE(o + 4), comm: b.toString('utf8', o + 8, e), pad };
};
const fieldsOnly: Reader = (b, o) => ({ pid: b.readUInt32LE(o), seq: b.readUInt32LE(o + 4) });
const commOnly: Reader = (b, o) => {
  let e = o + 8;
  while (e < o + 24 && b[e] !== 0) e++;
  return b.toString('utf8', o + 8, e);
};

/**
 * CPU time (this process, GC threads included) rather than wall time: the benchmark machine is
 * shared, and time spent descheduled is not the decoder's.
 */
function cpuNs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1e3;
}

/** ns per record of one pass set; the sink keeps every decoded value observed. */
function timeReader(read: Reader, b: Buffer): { ns: number; sink: number } {
  let sink = 0;
  const t0 = cpuNs();
  for (let p = 0; p < PASSES; p++) {
    for (let i = 0; i < RECORDS; i++) {
      const v = read(b, i * STRIDE + HEADER) as Event | string;
      sink = (sink + (typeof v === 'string' ? v.length : v.seq + (v.comm?.length ?? 0) + (v.pad?.[39] ?? 0))) | 0;
    }
  }
  return { ns: (cpuNs() - t0) / (PASSES * RECORDS), sink };
}

/** Medians over ROUNDS, the readers interleaved round by round so machine noise hits them alike. */
function compare(readers: Record<string, Reader>, b: Buffer): Record<string, number> {
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [name, read] of Object.entries(readers)) {
      const { ns } = timeReader(read, b);
      if (round === 0) continue; // warm-up: optimised code is what a long-running consumer runs
      (samples[name] ??= []).push(ns);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s)]));
}

function printTable(title: string, rows: Record<string, number>, reference: string, unit = 'record'): void {
  console.log(`\n== ${title}`);
  const width = Math.max(...Object.keys(rows).map((k) => k.length));
  for (const [name, ns] of Object.entries(rows)) {
    const ratio = name === reference ? '' : `  (${(ns / rows[reference]!).toFixed(2)}x ${reference})`;
    console.log(`  ${name.padEnd(width)}  ${ns.toFixed(1).padStart(6)} ns/${unit}  ${(1e3 / ns).toFixed(1).padStart(5)} M/s${ratio}`);
  }
}

const codec = eventCodec();
const decode: Reader = (b, o) => codec.decode(b, o);

// The values must match before the times mean anything.
const sample = arena(() => Buffer.from('getppid-produce'));
const want = JSON.stringify(handWritten(sample, HEADER));
if (JSON.stringify(decode(sample, HEADER)) !== want) throw new Error(`compiled decoder disagrees with the hand-written reader: ${JSON.stringify(decode(sample, HEADER))} vs ${want}`);

const cases: [string, Buffer][] = [
  ['comm "getppid-produce" (15 ASCII bytes, every record)', sample],
  ['comm of 3 to 15 ASCII bytes, varying record to record', arena((i) => Buffer.from('abcdefghijklmnopqrstuvwxyz'.slice(i % 7, (i % 7) + 3 + (i % 13))))],
  ['comm "café-crème" (UTF-8, 12 bytes)', arena(() => Buffer.from('café-crème'))],
];
for (const [title, b] of cases) {
  printTable(title, compare({ 'compiled decoder': decode, 'hand-written, same values': handWritten, 'hand-written, pid+seq only': fieldsOnly, 'Buffer.toString of comm only': commOnly }, b), 'compiled decoder');
}

// Strings alone, by length: where String.fromCharCode in JS stops beating Buffer.toString's C++
// (c-string.ts makes strings up to JS_STRING_MAX bytes in JS). The switch is built to 64 cases,
// about the most V8 still optimises.
const fromCharCodes = asciiFromCharCodes(64);
const crossover: string[] = [];
for (const length of [1, 4, 8, 15, 24, 32, 40, 48, 56, 64]) {
  const b = Buffer.alloc(RECORDS * STRIDE);
  for (let i = 0; i < RECORDS; i++) for (let j = 0; j < length; j++) b[i * STRIDE + HEADER + j] = 0x61 + ((i + j) % 26);
  const ns = compare({
    'String.fromCharCode (JS)': (b, o) => fromCharCodes(b, o, length),
    "Buffer.toString('latin1')": (b, o) => b.toString('latin1', o, o + length),
    "Buffer.toString('utf8')": (b, o) => b.toString('utf8', o, o + length),
  }, b);
  const [js, latin1, utf8] = Object.values(ns) as [number, number, number];
  crossover.push(`  ${String(length).padStart(3)} bytes  ${js.toFixed(1).padStart(6)}  ${latin1.toFixed(1).padStart(6)}  ${utf8.toFixed(1).padStart(6)}   ${(Math.min(latin1, utf8) / js).toFixed(2)}x`);
}
console.log(`\n== ASCII string of N bytes, ns/string (JS_STRING_MAX = ${JS_STRING_MAX})`);
console.log('  length     JS     latin1  utf8     toString / JS');
console.log(crossover.join('\n'));
