/**
 * Perf event arrays and ring buffers as callbacks (pylcc's open_perf_buffer) and as async
 * iterators. Each record is decoded by the type lbc.h recorded for the map; raw bytes come along.
 */
import type { NativeBuffer } from '../native/types.ts';
import type { Codec } from '../values/index.ts';
import { nativeCall, type MapContext } from './map-context.ts';
import { RecordBatch, type RecordVisitor } from './record-batch.ts';

export type EventCallback = (event: unknown, raw: Buffer, cpu: number) => void;
export type LostCallback = (cpu: number, count: number) => void;

export interface EventSubscription {
  /** Stops delivery and frees the native buffer; idempotent. */
  close(): void;
}

/**
 * Decodes a record by the recorded type where it lies (`end - start` bytes at `start` of `buf`);
 * records shorter than the type stay raw bytes, in memory of their own when `keep` is false.
 */
export type EventDecoder = (buf: Buffer, start: number, end: number, keep: boolean) => unknown;

export function eventDecoder(codec: Codec | undefined): EventDecoder {
  const raw = (buf: Buffer, start: number, end: number, keep: boolean) => {
    const bytes = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
    return keep ? bytes : Buffer.from(bytes);
  };
  if (!codec) return raw;
  const { size, decode } = codec;
  return (buf, start, end, keep) => (end - start >= size ? decode(buf, start) : raw(buf, start, end, keep));
}

/** `cb(batch)` per batch, in the addon's reused storage (see RecordBatch). */
export type BatchCallback = (batch: RecordBatch) => void;

/**
 * A callback declaring only `event` does not get `raw`: records are then decoded straight from the
 * addon's reused storage, without a Buffer per record.
 */
const wantsRaw = (cb: EventCallback) => cb.length !== 1;

export function openPerf(ctx: MapContext, decode: EventDecoder, cb: EventCallback, lost?: LostCallback, pageCount = 8): NativeBuffer {
  if (!wantsRaw(cb)) {
    const visit: RecordVisitor = (arena, start, end, cpu) => cb(decode(arena, start, end, false), undefined as unknown as Buffer, cpu);
    return openPerfBatches(ctx, (batch) => batch.forEach(visit), lost, pageCount);
  }
  return nativeCall(ctx, 'openPerfBuffer', () =>
    ctx.native.openPerfBuffer(
      ctx.info.fd,
      pageCount,
      (records, cpus) => {
        for (let i = 0; i < records.length; i++) cb(decode(records[i], 0, records[i].length, true), records[i], cpus[i]);
      },
      lost ?? (() => undefined),
    ),
  );
}

export function openRing(ctx: MapContext, decode: EventDecoder, cb: EventCallback): NativeBuffer {
  if (!wantsRaw(cb)) {
    const visit: RecordVisitor = (arena, start, end) => cb(decode(arena, start, end, false), undefined as unknown as Buffer, -1);
    return openRingBatches(ctx, (batch) => batch.forEach(visit));
  }
  return nativeCall(ctx, 'openRingBuffer', () =>
    ctx.native.openRingBuffer(ctx.info.fd, (records) => {
      for (let i = 0; i < records.length; i++) cb(decode(records[i], 0, records[i].length, true), records[i], -1);
    }),
  );
}

/**
 * Reads the ring in place (openRingBufferView): records are decoded where the kernel wrote them,
 * and go back to the kernel when `cb` returns.
 */
export function openRingBatches(ctx: MapContext, cb: BatchCallback): NativeBuffer {
  const batch = new RecordBatch();
  return nativeCall(ctx, 'openRingBufferView', () =>
    ctx.native.openRingBufferView(ctx.info.fd, (view, head, avail) => {
      cb(batch.resetRing(view, head, avail));
      return batch.consumed();
    }),
  );
}

export function openPerfBatches(ctx: MapContext, cb: BatchCallback, lost?: LostCallback, pageCount = 8): NativeBuffer {
  const batch = new RecordBatch();
  return nativeCall(ctx, 'openPerfBufferArena', () =>
    ctx.native.openPerfBufferArena(ctx.info.fd, pageCount, (arena, ends, cpus, count) => cb(batch.reset(arena, ends, cpus, count)), lost ?? (() => undefined)),
  );
}

export interface EventIteratorOptions {
  /** Events held for a slow consumer before the oldest are dropped (counted in `dropped`). */
  maxQueued?: number;
}

/** Adapts a callback source to `for await`; breaking out of the loop closes the source. */
export function eventIterator(
  open: (cb: EventCallback, lost: LostCallback) => EventSubscription,
  opts: EventIteratorOptions = {},
): AsyncIterableIterator<unknown> & { dropped: number; lost: number } {
  const maxQueued = opts.maxQueued ?? 65536;
  const queue: unknown[] = [];
  let head = 0;
  let wake: ((r: IteratorResult<unknown>) => void) | undefined;
  let done = false;
  const it = {
    dropped: 0,
    lost: 0,
    next(): Promise<IteratorResult<unknown>> {
      if (head < queue.length) {
        const value = queue[head++];
        if (head > 4096 && head * 2 > queue.length) queue.splice(0, head), (head = 0);
        return Promise.resolve({ value, done: false });
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (wake = resolve));
    },
    return(): Promise<IteratorResult<unknown>> {
      done = true;
      sub.close();
      const w = wake;
      wake = undefined;
      w?.({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  const sub = open(
    (event) => {
      if (done) return;
      if (wake) {
        const w = wake;
        wake = undefined;
        w({ value: event, done: false });
        return;
      }
      if (queue.length - head >= maxQueued) {
        head++;
        it.dropped++;
      }
      queue.push(event);
    },
    (_cpu, count) => {
      it.lost += count;
    },
  );
  return it;
}
