/** What every map operation needs: the native handle, the map's facts and its codecs. */
import { LbcError } from '@lbc/contract';
import type { Btf } from '@lbc/btf';
import type { NativeAddon, NativeMapInfo, NativeObject } from '../native/types.ts';
import type { ObjectLifecycle } from '../lifecycle/object-lifecycle.ts';
import type { Codec } from '../values/index.ts';

export interface MapContext {
  native: NativeAddon;
  info: NativeMapInfo;
  btf: Btf | null;
  key: Codec;
  value: Codec;
  /** CPUs a per-CPU value has slots for (1 for ordinary maps). */
  cpus: number;
  perCpu: boolean;
  /** The owning object's phase: before load only set-up (sizes, pinning) is possible, after it only use. */
  lifecycle: ObjectLifecycle;
  /** The opened object, for set-up before load (none for a map reached by fd, which is loaded from the start). */
  object?: NativeObject;
  /** Re-reads `info` and the codecs from the object (after a set-up, and after load). */
  refresh(): void;
}

/** Map operations need a loaded map; before load they say so instead of failing with EBADF, after close LBC_ERR_CLOSED. */
export function requireLoaded(ctx: MapContext, op: string): void {
  ctx.lifecycle.require('loaded', { kind: 'map', name: ctx.info.name, op });
}

/** Runs a native call on the loaded map, turning its errno error into LBC_ERR_MAP_OP naming the map and operation. */
export function nativeCall<T>(ctx: MapContext, op: string, call: () => T): T {
  requireLoaded(ctx, op);
  try {
    return call();
  } catch (err) {
    const e = err as { message?: string; errno?: number };
    throw new LbcError('LBC_ERR_MAP_OP', `${ctx.info.name}.${op}: ${e.message ?? String(err)}`, { map: ctx.info.name, op, errno: e.errno }, { cause: err });
  }
}
