/** What every map operation needs: the native handle, the map's facts and its codecs. */
import { LbcError } from '@lbc/contract';
import type { Btf } from '@lbc/btf';
import type { NativeAddon, NativeMapInfo, NativeObject } from '../native/types.ts';
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
  /** Set once the owning object is closed. */
  closed: { value: boolean };
  /** Set once the owning object is loaded: before, only set-up (sizes, pinning) is possible. */
  loaded: { value: boolean };
  /** The opened object, for set-up before load. */
  object?: NativeObject;
  /** Re-reads `info` and the codecs from the object (after a set-up, and after load). */
  refresh(): void;
}

/** Map operations need a loaded map; before load they say so instead of failing with EBADF. */
export function requireLoaded(ctx: MapContext, op: string): void {
  if (!ctx.loaded.value) throw new LbcError('LBC_ERR_NOT_LOADED', `map ${ctx.info.name}.${op}: the object is not loaded yet; await lbc.load() first`, { map: ctx.info.name, op });
}

/** Runs a native call, turning its errno error into LBC_ERR_MAP_OP naming the map and operation. */
export function nativeCall<T>(ctx: MapContext, op: string, call: () => T): T {
  if (ctx.closed.value) throw new LbcError('LBC_ERR_CLOSED', `map ${ctx.info.name}`);
  try {
    return call();
  } catch (err) {
    const e = err as { message?: string; errno?: number };
    throw new LbcError('LBC_ERR_MAP_OP', `${ctx.info.name}.${op}: ${e.message ?? String(err)}`, { map: ctx.info.name, op, errno: e.errno }, { cause: err });
  }
}
