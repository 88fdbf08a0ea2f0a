/**
 * Runs the pure code of `lbc run`'s way to its first event once while the CLI's startup snapshot
 * is built, on a small BTF made here: the snapshot then keeps those functions compiled, and a
 * process started from it does not compile them lazily on its way to the first event (V8 keeps
 * the bytecode of functions that ran; it compiles the others on first call). Nothing it makes
 * outlives it: no machine state is read, and every value goes to the garbage collector.
 */
import { Command } from 'commander';
import { BtfWriter, parseBtf } from '@lbc/btf';
import { cacheKey } from '@lbc/contract';
import { RecordBatch } from '../maps/record-batch.ts';
import { codecFor } from '../values/index.ts';
import { eventJson, eventLine } from './event-format.ts';
import { cflagsOf, programName, sourceOptions, type SourceFlags } from './source-flags.ts';
import { collectLocalIncludes } from '../source/local-includes.ts';
import { targetFromFlags } from './target-flags.ts';
import { compileForTarget } from '../obtain/compile-for-target.ts';
import { writeFileAtomic } from '../cache/atomic-write.ts';
import type { HttpResponse } from '../transport/http.ts';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** BTF of `struct event { unsigned int pid; unsigned int seq; char comm[16]; unsigned long long ts; }`. */
function sampleBtf(): Buffer {
  const w = new BtfWriter();
  const u32 = w.int('unsigned int', 4, false);
  const u64 = w.int('unsigned long long', 8, false);
  const comm = w.array(w.int('char', 1, true), 16, u32);
  const members = [
    { name: 'pid', type: u32, bitOffset: 0 },
    { name: 'seq', type: u32, bitOffset: 32 },
    { name: 'comm', type: comm, bitOffset: 64 },
    { name: 'ts', type: u64, bitOffset: 192 },
  ];
  w.struct('event', 32, members);
  return w.build();
}

/**
 * A throwaway command line shaped like `lbc run`'s, parsed by a throwaway program: commander's
 * parse and dispatch are the same functions for every program, and a cold one spent ~2 ms compiling
 * them. Nothing is printed; the action only hands back what it was given.
 */
function parseSampleCommandLine(): { file: string; cflags: string[] } {
  let seen = { file: '', cflags: [] as string[] };
  const program = new Command('lbc-warm-up').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  sourceOptions(program.command('run'))
    .argument('<file>')
    .option('--json')
    .option('--cache-dir <dir>')
    .action((file: string, flags: SourceFlags) => {
      seen = { file, cflags: cflagsOf(flags) };
    });
  program.parse(['run', '--json', '--cache-dir', 'cache', '-D', 'WARM=1', 'warm.bpf.c'], { from: 'user' });
  return seen;
}

/**
 * A cache hit's way from the service's answer to the object on disk, run once on answers from
 * memory: the compile request and its retry wrapper, the JSON answer checked, the object decoded and
 * verified against its sha256, written beside a name and renamed into place (in a temporary
 * directory, removed again). Those functions were compiled lazily at every `lbc compile`/`lbc run`
 * of a new process. What undici does with a real answer cannot run here: node has no WebAssembly
 * while it builds a snapshot (see scripts/undici-warmup.mjs).
 */
export async function warmUpCompileAnswer(): Promise<number> {
  const { HttpTransport } = await import('../transport/http.ts');
  const { ServiceClient } = await import('../transport/service-client.ts');
  const object = Buffer.from('warm-up object');
  const sha256 = createHash('sha256').update(object).digest('hex');
  const answer = Buffer.from(
    JSON.stringify({ artifact: { sha256, url: `/v1/artifacts/${sha256}`, size: object.length }, objectBase64: object.toString('base64'), cached: true, kernel: { release: '6.1.0-warm', arch: 'x86_64' } }),
  );
  class CannedTransport extends HttpTransport {
    override async request(): Promise<HttpResponse> {
      return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: answer };
    }
  }
  const client = new ServiceClient({ transport: new CannedTransport('http://127.0.0.1:9') });
  const target = targetFromFlags({ release: '6.1.0-warm', arch: 'x86_64', btfSha: sha256 });
  const { result } = await compileForTarget(client, { name: 'warm', source: '#include "lbc.h"\n', includes: {}, cflags: [] }, target, { includeObject: true });
  const bytes = await client.compiledObject(result);
  const dir = mkdtempSync(join(tmpdir(), 'lbc-warm-up-'));
  try {
    writeFileAtomic(join(dir, `${programName('warm.bpf.c')}.bpf.o`), bytes, { durable: false });
    return readFileSync(join(dir, 'warm.bpf.o')).length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await client.close();
  }
}

export function warmUpForSnapshot(): string {
  const { file, cflags } = parseSampleCommandLine();
  if (file !== 'warm.bpf.c' || cflags[0] !== '-DWARM=1') throw new Error(`snapshot warm-up: the sample command line parsed as ${file} ${cflags.join(' ')}`);
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
  cacheKey({ name: '', source: '', includes: {}, cflags: [], btfSha256: '', arch: 'x86_64', lbcHeaderSha256: '', toolchain: '' });
  // `lbc compile` and `lbc run` scan the source for its own headers (~6 ms compiled lazily, at every
  // start): lbc.h is the service's, so nothing is looked for on disk.
  if (Object.keys(collectLocalIncludes('#include "lbc.h"\n', [])).length !== 0) throw new Error('snapshot warm-up: lbc.h was collected as a local header');
  return line;
}
