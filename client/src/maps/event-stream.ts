/**
 * Perf event arrays and ring buffers as callbacks (pylcc's open_perf_buffer) and as async
 * iterators. Each record is decoded by the type lbc.h recorded for the map; raw bytes come along.
 */
import type { NativeBuffer } from '../native/types.ts';
import type { Codec } from '../values/index.ts';
import { nativeCall, type MapContext } from './map-context.ts';

export type EventCallback = (event: unknown, raw: Buffer, cpu: number) => void;
export type LostCallback = (cpu: number, count: number) => void;

export interface EventSubscription {
  /** Stops delivery and frees the native buffer; idempotent. */
  close(): void;
}

/** Decodes a record by the recorded type; records shorter than the type stay raw Buffers. */
export function eventDecoder(codec: Codec | undefined): (raw: Buffer) => unknown {
  if (!codec) return (raw) => raw;
  const { size, decode } = codec;
  return (raw) => (raw.length >= size ? decode(raw, 0) : raw);
}

export function openPerf(ctx: MapContext, decode: (raw: Buffer) => unknown, cb: EventCallback, lost?: LostCallback, pageCount = 8): NativeBuffer {
  return nativeCall(ctx, 'openPerfBuffer', () =>
    ctx.native.openPerfBuffer(
      ctx.info.fd,
      pageCount,
      (records, cpus) => {
        for (let i = 0; i < records.length; i++) cb(decode(records[i]), records[i], cpus[i]);
      },
      lost ?? (() => undefined),
    ),
  );
}

export function openRing(ctx: MapContext, decode: (raw: Buffer) => unknown, cb: EventCallback): NativeBuffer {
  return nativeCall(ctx, 'openRingBuffer', () =>
    ctx.native.openRingBuffer(ctx.info.fd, (records) => {
      for (let i = 0; i < records.length; i++) cb(decode(records[i]), records[i], -1);
    }),
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
