// RecordBatch's walk of a ring read in place, over a ring laid out here byte by byte: the states
// the kernel leaves records in (committed, discarded, still being written) at chosen places,
// which a live ring only shows by chance. ring-view.test.ts reads real rings.
import { describe, expect, it } from 'vitest';
import { RecordBatch } from '../src/maps/index.ts';

const RING = 256;
const BUSY = 0x8000_0000;
const DISCARD = 0x4000_0000;

/** A data area of RING bytes mapped twice back to back, as the addon maps a ring. */
class FakeRing {
  readonly view = new ArrayBuffer(2 * RING);
  private readonly bytes = new Uint8Array(this.view);
  /** Writes a record at ring position `pos` (header + payload), into both mappings. */
  put(pos: number, payload: number[], flags = 0): number {
    const record = new Uint8Array(8 + payload.length);
    new DataView(record.buffer).setUint32(0, payload.length | flags, true);
    record.set(payload, 8);
    for (let i = 0; i < record.length; i++) {
      const at = (pos + i) % RING;
      this.bytes[at] = this.bytes[at + RING] = record[i];
    }
    return pos + ((record.length + 7) & ~7);
  }
  /** Clears the busy bit of the header at `pos`, as the kernel's commit does. */
  commit(pos: number): void {
    const header = new DataView(this.view);
    for (const at of [pos % RING, (pos % RING) + RING]) header.setUint32(at, header.getUint32(at, true) & ~BUSY, true);
  }
}

const visited = (batch: RecordBatch) => {
  const seen: number[][] = [];
  batch.forEach((arena, start, end, cpu) => {
    expect(cpu).toBe(-1);
    seen.push([...arena.subarray(start, end)]);
  });
  return seen;
};

describe('walking a ring read in place', () => {
  it('visits committed records across the end of the area and skips discarded ones', () => {
    const ring = new FakeRing();
    const head = 224; // 32 bytes before the end: the second record runs over it
    let pos = ring.put(head, [1, 2, 3]);
    pos = ring.put(pos, [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    pos = ring.put(pos, [99], DISCARD);
    pos = ring.put(pos, []);
    pos = ring.put(pos, [21]);
    const avail = pos - head;
    const batch = new RecordBatch().resetRing(ring.view, head % RING, avail);
    expect(visited(batch)).toEqual([[1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], [], [21]]);
    expect(batch.consumed()).toBe(avail);
    // Indexed access agrees with the walk; the wrapping record is whole in the second mapping.
    expect(batch.length).toBe(4);
    expect(batch.start(1)).toBe(RING - 8);
    expect(batch.end(1)).toBeGreaterThan(RING);
    expect([...batch].map((r) => [...r])).toEqual(visited(batch));
    expect(batch.copy(3)).toEqual(Buffer.from([21]));
  });

  it('stops at a record still being written, and every later walk of the batch stops there too', () => {
    const ring = new FakeRing();
    let pos = ring.put(0, [1]);
    const busyAt = pos;
    pos = ring.put(pos, [2], BUSY);
    pos = ring.put(pos, [3]);
    const batch = new RecordBatch().resetRing(ring.view, 0, pos);
    expect(visited(batch)).toEqual([[1]]);
    // Committed while the callback still runs: this batch must not grow, the next one gets it.
    ring.commit(busyAt);
    expect(visited(batch)).toEqual([[1]]);
    expect(batch.length).toBe(1);
    expect(batch.consumed()).toBe(busyAt);
    const next = new RecordBatch().resetRing(ring.view, busyAt, pos - busyAt);
    expect(visited(next)).toEqual([[2], [3]]);
  });

  it('gives back what the producer wrote even when the callback read nothing', () => {
    const ring = new FakeRing();
    let pos = 0;
    for (let i = 0; i < 5; i++) pos = ring.put(pos, [i, i, i, i, i, i, i, i, i]);
    const batch = new RecordBatch().resetRing(ring.view, 0, pos);
    expect(batch.consumed()).toBe(pos);
    expect(batch.length).toBe(5);
  });

  it('indexes more records than its first index holds', () => {
    // A zeroed 64 KiB area reads as empty committed records, 8 bytes each (a header only).
    const batch = new RecordBatch().resetRing(new ArrayBuffer(2 * 65536), 0, 3000 * 8);
    expect(batch.length).toBe(3000);
    expect(batch.start(2999)).toBe(2999 * 8 + 8);
    expect(batch.end(2999)).toBe(2999 * 8 + 8);
  });
});
