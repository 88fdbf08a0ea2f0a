/**
 * A batch of ring/perf buffer records in the addon's reused storage (openRingBufferArena,
 * openPerfBufferArena) or in the ring itself (openRingBufferView, read-only memory): no copy and
 * no object per record. Like cilium/ebpf's reused record buffer, a batch and the views it hands
 * out are valid only during the callback; copy() what must outlive it.
 *
 * `forEach` is the fast way through: records are visited where they lie, in order. Read in place,
 * a batch is a stretch of the ring whose record headers only this walk reads (the addon hands over
 * where the stretch starts and how long it is); indexed access (`length`, `start(i)`, `record(i)`,
 * iteration) first walks it once into an index of offsets.
 */

/** `arena[start, end)` is a record; `cpu` the CPU that emitted it (perf buffers), else -1. */
export type RecordVisitor = (arena: Buffer, start: number, end: number, cpu: number) => void;

// Ring buffer record header (uapi linux/bpf.h): u32 length with BUSY (bit 31: reserved, not yet
// committed) and DISCARD (bit 30), then 4 bytes of page offset; records are 8-byte aligned.
const HEADER_BYTES = 8;
const DISCARD = 0x4000_0000;
const LENGTH = 0x3fff_ffff;

export class RecordBatch {
  /** The bytes of every record (more than the batch's): back to back, or the ring's data area. */
  arena: Buffer = Buffer.alloc(0);
  private count = 0;
  private starts: Uint32Array | undefined;
  private ends = new Uint32Array(0);
  private cpus: Uint32Array | undefined;
  private arenaStorage: ArrayBuffer | undefined;
  private endsStorage: ArrayBuffer | undefined;
  private cpusStorage: ArrayBuffer | undefined;
  // Read in place: the ring's headers as int32 (BUSY is the sign bit) over the doubled data area.
  private headers: Int32Array | undefined;
  private ringBytes = 0;
  private head = 0;
  private avail = 0;
  /** Bytes a finished walk covered (it stops at an uncommitted record), -1 before one. */
  private walked = -1;
  private indexed = false;

  /** Points the batch at the addon's storage; views are remade only when the addon regrew it. */
  reset(arena: ArrayBuffer, ends: ArrayBuffer, cpus: ArrayBuffer | undefined, count: number): this {
    if (arena !== this.arenaStorage) this.setArena(arena);
    if (ends !== this.endsStorage) (this.endsStorage = ends), (this.ends = new Uint32Array(ends));
    if (cpus !== this.cpusStorage) (this.cpusStorage = cpus), (this.cpus = cpus && new Uint32Array(cpus));
    this.headers = undefined;
    this.starts = undefined;
    this.count = count;
    return this;
  }

  /**
   * Points the batch at a ring read in place: `view` is the data area mapped twice back to back,
   * the first record header is at `head`, and the producer wrote `avail` bytes from there.
   */
  resetRing(view: ArrayBuffer, head: number, avail: number): this {
    if (view !== this.arenaStorage) {
      this.setArena(view);
      this.headers = new Int32Array(view);
      this.ringBytes = view.byteLength / 2;
      this.cpus = undefined;
    }
    this.head = head;
    this.avail = avail;
    this.walked = -1;
    this.indexed = false;
    return this;
  }

  /** Records in this batch. */
  get length(): number {
    if (this.headers && !this.indexed) this.index();
    return this.count;
  }

  /** Visits every record in order, where it lies. */
  forEach(visit: RecordVisitor): void {
    if (this.headers && !this.indexed) {
      this.walk(visit);
      return;
    }
    const { arena, ends, starts, cpus, count } = this;
    for (let i = 0, start = 0; i < count; i++) {
      if (starts) start = starts[i];
      visit(arena, start, ends[i], cpus ? cpus[i] : -1);
      start = ends[i];
    }
  }

  /** Byte offset of record i in `arena`. */
  start(i: number): number {
    if (this.headers && !this.indexed) this.index();
    if (this.starts) return this.starts[i];
    return i === 0 ? 0 : this.ends[i - 1];
  }

  /** Byte offset just past record i in `arena`. */
  end(i: number): number {
    if (this.headers && !this.indexed) this.index();
    return this.ends[i];
  }

  /** Record i as a view into the arena (valid during the callback only). */
  record(i: number): Buffer {
    return this.arena.subarray(this.start(i), this.end(i));
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

  /**
   * Read in place: the bytes of ring the batch covers, to give back to the kernel once the
   * callback is done (walked now if the callback did not go through the records).
   */
  consumed(): number {
    return this.walked >= 0 ? this.walked : this.walk(undefined);
  }

  private setArena(storage: ArrayBuffer): void {
    this.arenaStorage = storage;
    this.arena = Buffer.from(storage);
  }

  /**
   * Walks the committed records from the head, up to the first one still being written (a later
   * walk stops where the first one did, so every walk of a batch sees the same records).
   */
  private walk(visit: RecordVisitor | undefined): number {
    const { headers, arena, ringBytes } = this;
    const limit = this.walked >= 0 ? this.walked : this.avail;
    let offset = this.head;
    let pos = 0;
    while (pos < limit) {
      const word = headers![offset >>> 2];
      if (word < 0) break;
      const length = word & LENGTH;
      if ((word & DISCARD) === 0 && visit) visit(arena, offset + HEADER_BYTES, offset + HEADER_BYTES + length, -1);
      const step = (length + HEADER_BYTES + 7) & ~7;
      pos += step;
      offset += step;
      if (offset >= ringBytes) offset -= ringBytes;
    }
    return (this.walked = pos);
  }

  /** Read in place: walks the batch once into starts/ends, for indexed access. */
  private index(): void {
    let starts = this.starts && this.starts.length > 0 ? this.starts : new Uint32Array(1024);
    let ends = this.ends.length === starts.length ? this.ends : new Uint32Array(starts.length);
    let n = 0;
    this.walk((_, start, end) => {
      if (n === starts.length) {
        const grown = new Uint32Array(n * 2);
        grown.set(starts);
        starts = grown;
        const grownEnds = new Uint32Array(n * 2);
        grownEnds.set(ends);
        ends = grownEnds;
      }
      starts[n] = start;
      ends[n++] = end;
    });
    this.starts = starts;
    this.ends = ends;
    this.count = n;
    this.indexed = true;
  }
}
