/**
 * Runs the pure code of `lbc run`'s way to its first event once while the CLI's startup snapshot
 * is built, on a small BTF made here: the snapshot then keeps those functions compiled, and a
 * process started from it does not compile them lazily on its way to the first event (V8 keeps
 * the bytecode of functions that ran; it compiles the others on first call). Nothing it makes
 * outlives it: no machine state is read, and every value goes to the garbage collector.
 */
import { parseBtf } from '@lbc/btf';
import { cacheKey } from '@lbc/contract';
import { RecordBatch } from '../maps/record-batch.ts';
import { codecFor } from '../values/index.ts';
import { eventJson, eventLine } from './event-format.ts';

const KIND = { INT: 1, ARRAY: 3, STRUCT: 4 } as const;

/** BTF of `struct event { unsigned int pid; unsigned int seq; char comm[16]; unsigned long long ts; }`. */
function sampleBtf(): Buffer {
  const strings = ['', 'unsigned int', 'char', 'unsigned long long', 'event', 'pid', 'seq', 'comm', 'ts'];
  const offsets = new Map<string, number>();
  let at = 0;
  for (const s of strings) offsets.set(s, at), (at += Buffer.byteLength(s) + 1);
  const words: number[] = [];
  const type = (name: string, kind: number, vlen: number, sizeOrType: number, ...extra: number[]) =>
    words.push(offsets.get(name)!, (kind << 24) | vlen, sizeOrType, ...extra);
  type('unsigned int', KIND.INT, 0, 4, 32); // [1]
  type('char', KIND.INT, 0, 1, (1 << 24) | 8); // [2] signed char
  type('unsigned long long', KIND.INT, 0, 8, 64); // [3]
  type('', KIND.ARRAY, 0, 0, 2, 1, 16); // [4] char[16]
  type('event', KIND.STRUCT, 4, 32, ...[offsets.get('pid')!, 1, 0], ...[offsets.get('seq')!, 1, 32], ...[offsets.get('comm')!, 4, 64], ...[offsets.get('ts')!, 3, 192]); // [5]
  const types = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => types.writeUInt32LE(w >>> 0, i * 4));
  const stringBytes = Buffer.from(`${strings.join('\0')}\0`);
  const header = Buffer.alloc(24);
  header.writeUInt16LE(0xeb9f, 0);
  header.writeUInt8(1, 2);
  header.writeUInt32LE(24, 4);
  header.writeUInt32LE(0, 8);
  header.writeUInt32LE(types.length, 12);
  header.writeUInt32LE(types.length, 16);
  header.writeUInt32LE(stringBytes.length, 20);
  return Buffer.concat([header, types, stringBytes]);
}

/** Returns the sample event as `lbc run --json` prints it. */
export function warmUpForSnapshot(): string {
  const btf = parseBtf(sampleBtf());
  const codec = codecFor(btf, btf.lookupCType('struct event')!);
  // One record in a ring laid out as the kernel lays it: an 8-byte header, then the event.
  const ring = new ArrayBuffer(2 * 64);
  const bytes = Buffer.from(ring);
  bytes.writeUInt32LE(codec.size, 0);
  bytes.writeUInt32LE(7, 8);
  bytes.write('warm-up', 16);
  let line = '';
  new RecordBatch().resetRing(ring, 0, 8 + codec.size).forEach((arena, start) => {
    const event = codec.decode(arena, start);
    codec.encode(event);
    eventLine('events', -1, event);
    line = eventJson('events', -1, event);
  });
  cacheKey({ source: '', includes: {}, cflags: [], btfSha256: '', arch: 'x86_64', lbcHeaderSha256: '', toolchain: '' });
  return line;
}
