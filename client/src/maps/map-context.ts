/** What every map operation needs: the native handle, the map's facts and its codecs. */
import { LbcError } from '@lbc/contract';
import type { Btf } from '@lbc/btf';
import type { NativeAddon, NativeMapInfo } from '../native/types.ts';
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
