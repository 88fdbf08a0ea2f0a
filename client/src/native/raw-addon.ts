/**
 * What the compiled addon exports before client/src/native/index.ts adapts it. Buffers arrive as
 * one arena plus end offsets: copying a batch once in C++ and slicing it in JS is several times
 * cheaper than creating one Buffer per record across N-API.
 */
import type { NativeAddon, NativeBuffer } from './types.ts';

export interface RawAddon extends Omit<NativeAddon, 'openRingBuffer' | 'openPerfBuffer' | 'openPacketSocket'> {
  openPacketSocket(ifindex: number, progFd: number, onBatch: (arena: Buffer, ends: Uint32Array) => void): NativeBuffer;
  openRingBuffer(mapFd: number, onBatch: (arena: Buffer, ends: Uint32Array) => void): NativeBuffer;
  openPerfBuffer(
    mapFd: number,
    pageCount: number,
    onBatch: (arena: Buffer, ends: Uint32Array, cpus: Uint32Array) => void,
    onLost: (cpu: number, count: number) => void,
  ): NativeBuffer;
}

/** Splits a batch arena into one Buffer per record (views, no copy). */
export function sliceRecords(arena: Buffer, ends: Uint32Array): Buffer[] {
  const records = new Array<Buffer>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i];
    records[i] = arena.subarray(start, end);
    start = end;
  }
  return records;
}
