// A ring buffer read in place (openRingBufferView, behind LbcMap.openRingBufferBatch): every
// committed record in order across many wrap-arounds of a one-page ring, records straddling the
// end of the data area read whole, discarded records skipped.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, type NativeObject } from '../src/native/index.ts';
import { RecordBatch } from '../src/maps/index.ts';
import { fixtureBuilder, GETPPID_LOOP, type FixtureBuilder } from '@lbc/test-support/native-fixtures';

const native = loadNative();
let fixtures: FixtureBuilder;
let workload: string;
const RING_BYTES = 4096;

beforeAll(() => {
  fixtures = fixtureBuilder();
  workload = fixtures.program('getppid-loop', GETPPID_LOOP);
});
afterAll(() => fixtures.cleanup());

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const mapFd = (object: NativeObject, name: string) => object.maps().find((m) => m.name === name)!.fd;

describe('ring buffer read in place', () => {
  // Both ways of finding the records: JS walks every header the producer wrote (x86's way), or the
  // addon first finds the committed ones with acquire loads (the way off x86, forced here).
  it.each([
    ['JS walking what the producer wrote (as on x86)', false],
    ['the addon finding the committed records first (as off x86)', true],
  ])('delivers every committed record in order across the wrap-around, skipping discarded ones: %s', async (_way, committedOnly) => {
    const object = native.openObject(fixtures.object('ring-view'), 'ring_view');
    object.load();
    const control = mapFd(object, 'control');
    const seqs: number[] = [];
    let straddled = 0;
    let badContent = 0;
    const views = new Set<ArrayBuffer>();
    const batch = new RecordBatch();
    const buffer = native.openRingBufferView(mapFd(object, 'ring'), (view, head, avail) => {
      views.add(view);
      batch.resetRing(view, head, avail);
      batch.forEach((arena, start, end) => {
        const record = arena.subarray(start, end);
        expect(record.length).toBe(40);
        if (end > RING_BYTES) straddled++;
        const seq = record.readUInt32LE(0);
        for (let k = 0; k < 4; k++) if (record.readBigUInt64LE(8 + 8 * k) !== BigInt(seq) * 4n + BigInt(k)) badContent++;
        seqs.push(seq);
      });
      return batch.consumed();
    }, { committedOnly });
    const link = object.attach('lbct_ring_view');
    const calls = 6000;
    try {
      // Paced (20 calls, then 1 ms) so a ring of ~85 records is read many times over.
      const child = spawn(workload, [String(calls), 'wait', '20', '1000'], { stdio: ['pipe', 'ignore', 'inherit'] });
      native.mapUpdate(control, u32(0), u32(child.pid!), 0);
      child.stdin.end('go\n');
      await once(child, 'exit');
      for (let n = -1; n !== seqs.length; ) {
        n = seqs.length;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      link.destroy();
      buffer.close();
    }
    const reserved = native.mapLookup(control, u32(1), 4)!.readUInt32LE();
    const refused = native.mapLookup(control, u32(2), 4)!.readUInt32LE();
    object.close();
    expect(reserved + refused).toBe(calls);
    // Refusals only happen if this process fell behind by a whole ring; most must get through.
    expect(reserved).toBeGreaterThan(calls / 2);
    const committed = Array.from({ length: reserved }, (_, i) => i).filter((i) => i % 3 !== 2);
    expect(seqs.length).toBe(committed.length);
    expect(seqs.every((seq, i) => seq === committed[i])).toBe(true);
    expect(badContent).toBe(0);
    expect(straddled).toBeGreaterThan(0);
    expect(views.size).toBe(1);
  });

  it('can be closed from its own callback, reopened on the same mapping, and refuses other maps', async () => {
    const object = native.openObject(fixtures.object('ring-view'), 'ring_view');
    object.load();
    const control = mapFd(object, 'control');
    const link = object.attach('lbct_ring_view');
    /** Runs `calls` getppid calls in bursts of 10, 20 ms apart. */
    const run = async (calls: number) => {
      const child = spawn(workload, [String(calls), 'wait', '10', '20000'], { stdio: ['pipe', 'ignore', 'inherit'] });
      native.mapUpdate(control, u32(0), u32(child.pid!), 0);
      child.stdin.end('go\n');
      await once(child, 'exit');
      await new Promise((r) => setTimeout(r, 100));
    };
    try {
      expect(() => native.openRingBufferView(control, () => 0)).toThrow(/not a BPF_MAP_TYPE_RINGBUF/);
      const first: number[] = [];
      let firstView: ArrayBuffer | undefined;
      const batch = new RecordBatch();
      const closing = native.openRingBufferView(mapFd(object, 'ring'), (view, head, avail) => {
        firstView = view;
        batch.resetRing(view, head, avail);
        for (let i = 0; i < batch.length; i++) first.push(batch.arena.readUInt32LE(batch.start(i)));
        closing.close();
        closing.close();
        return batch.consumed();
      });
      await run(30);
      closing.close();
      // One batch only, and the records it held went back to the ring: the next reader starts after them.
      expect(first.length).toBeGreaterThan(0);
      const second: number[] = [];
      let secondView: ArrayBuffer | undefined;
      const reopened = native.openRingBufferView(mapFd(object, 'ring'), (view, head, avail) => {
        secondView = view;
        batch.resetRing(view, head, avail);
        for (let i = 0; i < batch.length; i++) second.push(batch.arena.readUInt32LE(batch.start(i)));
        return batch.consumed();
      });
      await new Promise((r) => setTimeout(r, 100));
      reopened.close();
      const all = [...first, ...second];
      expect(all).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 !== 2));
      expect(second.length).toBeGreaterThan(0);
      expect(secondView).toBe(firstView);
    } finally {
      link.destroy();
      object.close();
    }
  });
});

describe('a ring read in place whose callback throws', () => {
  it('gives the whole batch back to the kernel and goes on with the next one', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'ring-view-throw.ts'), fixtures.objectPath('ring-view')], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const { seqs, thrown } = JSON.parse(run.stdout) as { seqs: number[]; thrown: number };
    expect(thrown).toBe(1);
    // The first batch (seqs 0-9) ends at its first record; the rest of it is not delivered again.
    const second = Array.from({ length: 10 }, (_, i) => 10 + i).filter((i) => i % 3 !== 2);
    expect(seqs).toEqual([0, ...second]);
  });
});
