/** Typed maps of a loaded object: `createMaps(native, obj, btf)` → { [map name]: LbcMap }. */
import { parseBtf, type Btf } from '@lbc/btf';
import type { NativeAddon, NativeObject } from '../native/types.ts';
import { codecFor } from '../values/index.ts';
import { LbcMap } from './lbc-map.ts';
import { mapCodec, recordedEventType, recordedHistScale } from './map-codecs.ts';
import { isPerCpu } from './map-types.ts';
import type { MapContext } from './map-context.ts';

export { LbcMap } from './lbc-map.ts';
export { MAP_TYPE, mapTypeName } from './map-types.ts';
export { formatLog2Hist, log2Slots } from './log2-hist.ts';
export { formatLog10Hist } from './log10-hist.ts';
export type { HistScale } from './map-codecs.ts';
export type { StackFrame } from './stack-trace.ts';
export type { EventCallback, LostCallback, EventSubscription, BatchCallback } from './event-stream.ts';
export { RecordBatch, type RecordVisitor } from './record-batch.ts';
export type { MapEntry, UpdateFlag } from './key-value-ops.ts';

/** Map names → maps, plus a non-enumerable `close()` that closes every map's buffers and marks them closed. */
export type LbcMaps = Record<string, LbcMap> & { close(): void };

/** createMaps' result for an object not loaded yet: `afterLoad()` re-reads fds and sizes. */
export type OpenedMaps = LbcMaps & { afterLoad(): void };

/** Maps libbpf creates for globals (.bss, .data, .rodata, .kconfig) are skipped: they are not user maps. */
function isInternalMap(name: string): boolean {
  return name.includes('.');
}

/**
 * The maps of `obj`. Of a loaded object by default; with `{ loaded: false }` of an opened one,
 * whose maps take set-up (maxEntries, valueSize, pinPath, reuseFd) until `afterLoad()`.
 */
export function createMaps(native: NativeAddon, obj: NativeObject, btfOrRaw: Btf | Buffer | null, opts?: { loaded: boolean }): OpenedMaps {
  const btf = btfOrRaw === null ? null : Buffer.isBuffer(btfOrRaw) ? parseBtf(btfOrRaw) : btfOrRaw;
  const closed = { value: false };
  const loaded = { value: opts?.loaded ?? true };
  let cpus: number | undefined;
  const maps: Record<string, LbcMap> = {};
  const contexts: MapContext[] = [];
  for (const info of obj.maps()) {
    if (isInternalMap(info.name)) continue;
    const perCpu = isPerCpu(info.type);
    if (perCpu) cpus ??= native.numPossibleCpus();
    const ctx: MapContext = {
      native,
      info,
      btf,
      key: mapCodec(btf, info.btfKeyTypeId, info.keySize, 'key'),
      value: mapCodec(btf, info.btfValueTypeId, info.valueSize, 'value'),
      cpus: perCpu ? cpus! : 1,
      perCpu,
      closed,
      loaded,
      object: obj,
      refresh() {
        const now = obj.maps().find((m) => m.name === ctx.info.name);
        if (!now) return;
        ctx.info = now;
        ctx.key = mapCodec(btf, now.btfKeyTypeId, now.keySize, 'key');
        ctx.value = mapCodec(btf, now.btfValueTypeId, now.valueSize, 'value');
      },
    };
    contexts.push(ctx);
    const eventType = recordedEventType(btf, info.name);
    maps[info.name] = new LbcMap(ctx, eventType !== undefined && btf ? codecFor(btf, eventType) : undefined, recordedHistScale(btf, info.name));
  }
  Object.defineProperty(maps, 'close', {
    enumerable: false,
    value: () => {
      for (const m of Object.values(maps)) m.close();
      closed.value = true;
    },
  });
  Object.defineProperty(maps, 'afterLoad', {
    enumerable: false,
    value: () => {
      loaded.value = true;
      for (const ctx of contexts) ctx.refresh();
    },
  });
  return maps as OpenedMaps;
}
