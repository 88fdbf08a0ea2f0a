/**
 * One map of a loaded object, typed by its BTF: key/value operations, histograms, stack
 * symbolisation and event streams, each offered only where the map type has it.
 */
import { statfsSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { LbcError } from '@lbc/contract';
import type { Codec } from '../values/index.ts';
import { KeyValueOps, type MapEntry, type UpdateFlag } from './key-value-ops.ts';
import { formatLog2Hist, log2Slots } from './log2-hist.ts';
import { formatLog10Hist } from './log10-hist.ts';
import type { HistScale } from './map-codecs.ts';
import { readStack, type StackFrame } from './stack-trace.ts';
import {
  eventDecoder,
  eventIterator,
  openPerf,
  openPerfBatches,
  openRing,
  openRingBatches,
  type BatchCallback,
  type EventCallback,
  type EventDecoder,
  type EventIteratorOptions,
  type EventSubscription,
  type LostCallback,
} from './event-stream.ts';
import { MAP_TYPE, mapTypeByName, mapTypeName, mapTypeNames } from './map-types.ts';
import { requireLoaded, type MapContext } from './map-context.ts';
import type { RecordBatch } from './record-batch.ts';

export class LbcMap {
  readonly name: string;
  /** C type of events (perf/ring buffers), for listings. */
  readonly eventType: string | undefined;

  private kvOps: KeyValueOps | undefined;
  private readonly subscriptions = new Set<EventSubscription>();
  private readonly decodeEvent: EventDecoder;

  /** 'log2' / 'log10' for lbc.h's LBC_HIST2 / LBC_HIST10 maps; undefined for others (showHist() reads them as log2). */
  readonly histScale: HistScale | undefined;

  constructor(private readonly ctx: MapContext, eventCodec?: Codec, histScale?: HistScale) {
    this.histScale = histScale;
    const { info } = ctx;
    this.name = info.name;
    this.eventType = eventCodec?.cType;
    this.decodeEvent = eventDecoder(eventCodec);
  }

  /** -1 before load. */
  get fd(): number {
    return this.ctx.info.fd;
  }

  /** The kernel's map id (as `bpftool map show` lists it); 0 before load. */
  get id(): number {
    return this.ctx.info.id;
  }

  /**
   * enum bpf_map_type; settable before load (bpf_map__set_type) by number or name ('perf_event_array'),
   * as libbpf-tools' bpf_buffer turns its ring buffer into a perf event array where rings are missing.
   */
  get type(): number {
    return this.ctx.info.type;
  }
  set type(type: number | string) {
    const value = typeof type === 'number' ? type : mapTypeByName(type);
    if (value === undefined) throw new LbcError('LBC_ERR_BAD_REQUEST', `map ${this.name}.type: unknown map type ${JSON.stringify(type)} (a number, or one of ${mapTypeNames().join(', ')})`, { map: this.name });
    this.configure('type', (object) => object.setMapType(this.name, value));
  }

  /** "hash", "percpu_array", "ringbuf", ... */
  get typeName(): string {
    return mapTypeName(this.type);
  }

  /** Settable before load (bpf_map__set_key_size). */
  get keySize(): number {
    return this.ctx.info.keySize;
  }
  set keySize(n: number) {
    this.configure('keySize', (object) => object.setMapKeySize(this.name, n));
  }

  /**
   * false before load: the map is not created (bpf_map__set_autocreate); programs may name it only
   * on paths the verifier proves dead (a `const volatile` flag in .rodata chooses them).
   */
  get autocreate(): boolean {
    return this.ctx.info.autocreate;
  }
  set autocreate(on: boolean) {
    this.configure('autocreate', (object) => object.setMapAutocreate(this.name, on));
  }

  /** C types of key and value, for listings. */
  get keyType(): string {
    return this.ctx.key.cType;
  }

  get valueType(): string {
    return this.ctx.value.cType;
  }

  /** Settable before load (bpf_map__set_max_entries): size a map at run time without recompiling. */
  get maxEntries(): number {
    return this.ctx.info.maxEntries;
  }
  set maxEntries(n: number) {
    this.configure('maxEntries', (object) => object.setMapMaxEntries(this.name, n));
  }

  /** Settable before load (bpf_map__set_value_size); the value then decodes by size, not by BTF type. */
  get valueSize(): number {
    return this.ctx.info.valueSize;
  }
  set valueSize(n: number) {
    this.configure('valueSize', (object) => object.setMapValueSize(this.name, n));
  }

  /**
   * A bpffs path (e.g. /sys/fs/bpf/my_counts), settable before load: load reuses the map pinned
   * there when its type and sizes match, else creates the map and pins it there.
   */
  get pinPath(): string | undefined {
    return this.ctx.info.pinPath;
  }
  set pinPath(path: string | undefined) {
    if (path !== undefined && path !== null) checkPinPath(this.name, path);
    this.configure('pinPath', (object) => object.setMapPinPath(this.name, path ?? null));
  }

  /** Before load: use this existing map (an fd, e.g. another object's map) instead of creating one. */
  reuseFd(fd: number): void {
    this.configure('reuseFd', (object) => object.reuseMapFd(this.name, fd));
  }

  get perCpu(): boolean {
    return this.ctx.perCpu;
  }

  private get kv(): KeyValueOps {
    requireLoaded(this.ctx, 'read/write');
    if (this.type === MAP_TYPE.RINGBUF || this.type === MAP_TYPE.PERF_EVENT_ARRAY) {
      const use = this.type === MAP_TYPE.RINGBUF ? 'openRingBuffer' : 'openPerfBuffer';
      throw new LbcError('LBC_ERR_MAP_OP', `${this.name} is a ${this.typeName} map: it has no entries to read; use ${use}() or events()`);
    }
    return (this.kvOps ??= new KeyValueOps(this.ctx));
  }

  /** The value for `key`, or undefined; per-CPU maps give one value per CPU. */
  get(key: unknown): unknown {
    return this.kv.get(key);
  }

  set(key: unknown, value: unknown, flag: UpdateFlag = 'any'): void {
    this.kv.set(key, value, flag);
  }

  /** False when the key was absent. */
  delete(key: unknown): boolean {
    return this.kv.delete(key);
  }

  keys(): unknown[] {
    return this.kv.keys();
  }

  entries(): [unknown, unknown][] {
    return this.kv.entries();
  }

  getAll(): MapEntry[] {
    return this.kv.getAll();
  }

  getThenClear(): MapEntry[] {
    return this.kv.getThenClear();
  }

  clear(): void {
    this.kv.clear();
  }

  /** Slot counts, log2 or log10 by the map's histScale (see log2-hist.ts for the conventions accepted). */
  hist(keyField?: string): number[] {
    return log2Slots(this.kv.getAll(), keyField, this.ctx.perCpu);
  }

  /**
   * The histogram as bcc's print_log2_hist lays it out, with log10 ranges for LBC_HIST10 maps; ''
   * when empty. pylcc's `showHist(head)` form (a heading line) is accepted too.
   */
  showHist(opts: string | { label?: string; keyField?: string; head?: string } = {}): string {
    const { label, keyField, head } = typeof opts === 'string' ? { head: opts } : opts;
    const slots = this.hist(keyField);
    const text = this.histScale === 'log10' ? formatLog10Hist(slots, label) : formatLog2Hist(slots, label);
    return head === undefined ? text : `${head}\n${text}`;
  }

  /** Frames of a stack id from bpf_get_stackid; user frames need the process's `pid`. */
  stacks(stackId: number, opts: { pid?: number } = {}): StackFrame[] {
    if (this.type !== MAP_TYPE.STACK_TRACE) throw new LbcError('LBC_ERR_MAP_OP', `${this.name} is a ${this.typeName} map, not a stack_trace map`);
    requireLoaded(this.ctx, 'stacks');
    return readStack(this.ctx, stackId, opts);
  }

  /**
   * pylcc's open_perf_buffer: `cb(event, raw, cpu)` per record, `lost(cpu, count)` on overflow. A
   * callback that declares only `event` is served without a Buffer per record (`raw` is not made).
   */
  openPerfBuffer(cb: EventCallback, lost?: LostCallback, opts: { pageCount?: number } = {}): EventSubscription {
    this.expect(MAP_TYPE.PERF_EVENT_ARRAY, 'openPerfBuffer');
    callbacks('openPerfBuffer', cb, lost);
    return this.track(openPerf(this.ctx, this.decodeEvent, cb, lost, opts.pageCount));
  }

  /**
   * `cb(event, raw)` per ring buffer record (cpu is -1: ring buffers are shared). A callback that
   * declares only `event` is served without a Buffer per record (faster; `raw` is not made).
   */
  openRingBuffer(cb: EventCallback): EventSubscription {
    this.expect(MAP_TYPE.RINGBUF, 'openRingBuffer');
    callbacks('openRingBuffer', cb);
    return this.track(openRing(this.ctx, this.decodeEvent, cb));
  }

  /**
   * `cb(batch)` per batch of raw ring buffer records, in storage reused from batch to batch: the
   * fastest delivery. The batch and its record views are valid only during the callback.
   */
  openRingBufferBatch(cb: BatchCallback): EventSubscription {
    this.expect(MAP_TYPE.RINGBUF, 'openRingBufferBatch');
    callbacks('openRingBufferBatch', cb);
    return this.track(openRingBatches(this.ctx, cb));
  }

  /** openRingBufferBatch for a perf event array; `batch.cpu(i)` tells each record's CPU. */
  openPerfBufferBatch(cb: BatchCallback, lost?: LostCallback, opts: { pageCount?: number } = {}): EventSubscription {
    this.expect(MAP_TYPE.PERF_EVENT_ARRAY, 'openPerfBufferBatch');
    callbacks('openPerfBufferBatch', cb, lost);
    return this.track(openPerfBatches(this.ctx, cb, lost, opts.pageCount));
  }

  /** Decodes one record of a batch by the map's recorded event type (bytes of its own if short). */
  decodeRecord(batch: RecordBatch, i: number): unknown {
    return this.decodeEvent(batch.arena, batch.start(i), batch.end(i), false);
  }

  /** `for await (const event of map.events())` over a perf or ring buffer map. */
  events(opts: EventIteratorOptions & { pageCount?: number } = {}): AsyncIterableIterator<unknown> & { dropped: number; lost: number } {
    const open = (cb: EventCallback, lost: LostCallback) =>
      this.type === MAP_TYPE.RINGBUF ? this.openRingBuffer(cb) : this.openPerfBuffer(cb, lost, { pageCount: opts.pageCount });
    return eventIterator(open, opts);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<unknown> {
    return this.events();
  }

  /** Closes the event buffers opened through this map. */
  close(): void {
    for (const s of this.subscriptions) s.close();
    this.subscriptions.clear();
  }

  private configure(what: string, call: (object: NonNullable<MapContext['object']>) => void): void {
    const { ctx } = this;
    ctx.lifecycle.require('setup', { kind: 'map', name: this.name, op: what });
    try {
      // Only an object's own maps are ever in set-up, and they have the object.
      call(ctx.object!);
    } catch (err) {
      if (err instanceof TypeError || err instanceof RangeError) throw err;
      const e = err as { message?: string; errno?: number };
      throw new LbcError('LBC_ERR_SETUP', `map ${this.name}.${what}: ${e.message ?? String(err)}`, { map: this.name, setting: what, errno: e.errno }, { cause: err });
    }
    ctx.refresh();
  }

  private expect(type: number, op: string): void {
    requireLoaded(this.ctx, op);
    if (this.type !== type) throw new LbcError('LBC_ERR_MAP_OP', `${op}() needs a ${mapTypeName(type)} map; ${this.name} is ${this.typeName}`);
  }

  private track(buffer: { close(): void }): EventSubscription {
    const sub: EventSubscription = {
      close: () => {
        if (!this.subscriptions.delete(sub)) return;
        buffer.close();
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }
}

/**
 * The callbacks an event buffer is opened with, checked when it is opened: called only once events
 * arrive, a non-function would throw from the poll loop then, far from the mistake, and end the process.
 */
function callbacks(op: string, cb: unknown, lost?: unknown): void {
  if (typeof cb !== 'function') throw new TypeError(`${op}(cb): cb must be a function, got ${cb === null ? 'null' : typeof cb}`);
  if (lost !== undefined && typeof lost !== 'function') throw new TypeError(`${op}(cb, lost): lost must be a function or undefined, got ${lost === null ? 'null' : typeof lost}`);
}

const BPF_FS_MAGIC = 0xcafe4a11;

/**
 * A pin path libbpf can use: absolute, in a directory on bpffs. libbpf finds out only at load,
 * which then fails as a whole (EINVAL) and leaves the object closed; said here, it names the map.
 */
function checkPinPath(map: string, path: unknown): void {
  if (typeof path !== 'string' || !isAbsolute(path)) throw new TypeError(`${map}.pinPath: expected an absolute path on bpffs (e.g. /sys/fs/bpf/${map}), got ${JSON.stringify(path)}`);
  let type: number;
  try {
    type = statfsSync(dirname(path)).type;
  } catch {
    // A directory that is not there (yet) is libbpf's to refuse, with its own errno.
    return;
  }
  if (type !== BPF_FS_MAGIC) throw new TypeError(`${map}.pinPath: ${dirname(path)} is not on bpffs (mount -t bpf bpf /sys/fs/bpf; pin under it)`);
}
