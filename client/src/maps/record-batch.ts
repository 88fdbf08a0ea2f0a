/**
 * A batch of ring/perf buffer records in the addon's reused storage (openRingBufferArena) or in
 * the ring itself (openRingBufferView, read-only memory): no copy and no object per record. Like cilium/ebpf's reused record buffer, a batch and the views it
 * hands out are valid only during the callback; copy() what must outlive it.
 */
export class RecordBatch {
  /** Records in this batch. */
  length = 0;
  /** The bytes of every record (more than the batch's): back to back, or the ring's data area. */
  arena: Buffer = Buffer.alloc(0);
  private ends = new Uint32Array(0);
  private starts: Uint32Array | undefined;
  private startsStorage: ArrayBuffer | undefined;
  private cpus: Uint32Array | undefined;
  private arenaStorage: ArrayBuffer | undefined;
  private endsStorage: ArrayBuffer | undefined;
  private cpusStorage: ArrayBuffer | undefined;

  /** Points the batch at the addon's storage; views are remade only when the addon regrew it. */
  reset(arena: ArrayBuffer, ends: ArrayBuffer, cpus: ArrayBuffer | undefined, count: number): this {
    if (arena !== this.arenaStorage) (this.arenaStorage = arena), (this.arena = Buffer.from(arena));
    if (ends !== this.endsStorage) (this.endsStorage = ends), (this.ends = new Uint32Array(ends));
    if (cpus !== this.cpusStorage) (this.cpusStorage = cpus), (this.cpus = cpus && new Uint32Array(cpus));
    this.length = count;
    return this;
  }

  /** Points the batch at a ring read in place: record i spans [starts[i], ends[i]) of `view`. */
  resetView(view: ArrayBuffer, starts: ArrayBuffer, ends: ArrayBuffer, count: number): this {
    if (view !== this.arenaStorage) (this.arenaStorage = view), (this.arena = Buffer.from(view));
    if (starts !== this.startsStorage) (this.startsStorage = starts), (this.starts = new Uint32Array(starts));
    if (ends !== this.endsStorage) (this.endsStorage = ends), (this.ends = new Uint32Array(ends));
    this.length = count;
    return this;
  }

  /** Byte offset of record i in `arena`. */
  start(i: number): number {
    if (this.starts) return this.starts[i];
    return i === 0 ? 0 : this.ends[i - 1];
  }

  /** Byte offset just past record i in `arena`. */
  end(i: number): number {
    return this.ends[i];
  }

  /** Record i as a view into the arena (valid during the callback only). */
  record(i: number): Buffer {
    return this.arena.subarray(this.start(i), this.ends[i]);
  }

  /** Record i in memory of its own. */
  copy(i: number): Buffer {
    return Buffer.from(this.record(i));
  }

  /** The CPU that emitted record i (perf buffers); -1 for ring buffers, which are shared. */
  cpu(i: number): number {
    return this.cpus ? this.cpus[i] : -1;
  }

  *[Symbol.iterator](): IterableIterator<Buffer> {
    for (let i = 0; i < this.length; i++) yield this.record(i);
  }
}
