// Batches in the addon's reused storage (openRingBufferArena / openPerfBufferArena through
// RecordBatch): every record in order, the same storage batch after batch, copies that outlive it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { loadNative, type NativeBuffer, type NativeObject } from '../src/native/index.ts';
import { RecordBatch } from '../src/maps/index.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';

const native = loadNative();
const env = useNativeFixtures();

interface Seen {
  seqs: number[];
  cpus: number[];
  batches: number;
  arenas: Set<Buffer>;
  kept?: { copy: Buffer; view: Buffer };
  lost: number;
}

/** Runs N getppid calls traced by `program`, reading records as `open` hands out batches. */
async function trace(program: string, calls: number, open: (object: NativeObject, onBatch: (b: RecordBatch) => void, seen: Seen) => NativeBuffer): Promise<Seen> {
  const object = native.openObject(env.fixtures.object('events'), 'events');
  object.load();
  const seen: Seen = { seqs: [], cpus: [], batches: 0, arenas: new Set(), lost: 0 };
  const buffer = open(
    object,
    (batch) => {
      seen.batches++;
      seen.arenas.add(batch.arena);
      for (let i = 0; i < batch.length; i++) {
        seen.seqs.push(batch.arena.readUInt32LE(batch.start(i) + 4));
        seen.cpus.push(batch.cpu(i));
      }
      if (!seen.kept && batch.length > 0) seen.kept = { copy: batch.copy(0), view: batch.record(0) };
      expect([...batch].length).toBe(batch.length);
    },
    seen,
  );
  const link = object.attach(program);
  try {
    const child = spawn(env.workload, [String(calls), 'wait', '200', '2000'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const pid = Buffer.alloc(4);
    pid.writeUInt32LE(child.pid!);
    native.mapUpdate(object.maps().find((m) => m.name === 'control')!.fd, Buffer.alloc(4), pid, 0);
    child.stdin.end('go\n');
    await once(child, 'exit');
    for (let n = -1; n !== seen.seqs.length; ) {
      n = seen.seqs.length;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    link.destroy();
    buffer.close();
    object.close();
  }
  return seen;
}

function checkKept(seen: Seen): void {
  // The copy keeps the first record; the view is into storage later batches wrote over.
  expect(seen.kept!.copy.readUInt32LE(4)).toBe(seen.seqs[0]);
  expect(seen.kept!.copy.length).toBeGreaterThanOrEqual(64);
  expect(seen.kept!.view.buffer).toBe([...seen.arenas][0].buffer);
}

describe('batches in reused storage', () => {
  it('ring buffer: every record in order, in few reused arenas', async () => {
    const calls = 50_000;
    const batch = new RecordBatch();
    const seen = await trace('lbct_rb_emit', calls, (object, onBatch) =>
      native.openRingBufferArena(object.maps().find((m) => m.name === 'rb')!.fd, (arena, ends, count) => onBatch(batch.reset(arena, ends, undefined, count))),
    );
    expect(seen.seqs.length).toBe(calls);
    expect(seen.seqs.every((seq, i) => seq === i)).toBe(true);
    expect(seen.cpus.every((cpu) => cpu === -1)).toBe(true);
    expect(seen.batches).toBeGreaterThan(1);
    // Storage grows by doubling from 64 KiB at most a few times, then is reused.
    expect(seen.arenas.size).toBeLessThan(8);
    expect(seen.arenas.size).toBeLessThan(seen.batches);
    checkKept(seen);
  });

  it('perf buffer: every record with its CPU, lost counts reported', async () => {
    const calls = 50_000;
    const batch = new RecordBatch();
    const seen = await trace('lbct_pb_emit', calls, (object, onBatch, s) =>
      native.openPerfBufferArena(
        object.maps().find((m) => m.name === 'pb')!.fd,
        256,
        (arena, ends, cpus, count) => onBatch(batch.reset(arena, ends, cpus, count)),
        (_cpu, count) => (s.lost += count),
      ),
    );
    expect(seen.lost).toBe(0);
    expect(seen.seqs.length).toBe(calls);
    expect(new Set(seen.seqs).size).toBe(calls);
    expect(seen.cpus.every((cpu) => cpu >= 0 && cpu < native.numPossibleCpus())).toBe(true);
    checkKept(seen);
  });

  it('refuses a map that is not a ring buffer', () => {
    const object = native.openObject(env.fixtures.object('events'), 'events');
    object.load();
    try {
      expect(() => native.openRingBufferArena(object.maps().find((m) => m.name === 'control')!.fd, () => {})).toThrow(/ring_buffer__new/);
    } finally {
      object.close();
    }
  });
});
