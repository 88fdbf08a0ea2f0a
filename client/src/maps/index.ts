/** Typed maps of a loaded object: `createMaps(native, obj, btf).maps` → { [map name]: LbcMap }. */
import { LbcError } from '@lbc/contract';
import type { Btf } from '@lbc/btf';
import { parseObjectBtf } from '../elf/object-btf.ts';
import { strictNames } from '../names/strict-names.ts';
import type { NativeAddon, NativeObject } from '../native/types.ts';
import { ObjectLifecycle } from '../lifecycle/object-lifecycle.ts';
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

/**
 * Map names → maps, and nothing else: a C map may be named `close` or `constructor`. An unknown
 * name is LBC_ERR_MAP_NOT_FOUND listing the maps.
 */
export type LbcMaps = Record<string, LbcMap>;

/** createMaps' result: the maps, `close()` for their buffers, and `afterLoad()` to re-read fds and sizes. */
export interface MapSet {
  maps: LbcMaps;
  /** Closes the event buffers opened through the maps, and the lifecycle with them (if its owner has not yet). */
  close(): void;
  afterLoad(): void;
}

/** Maps libbpf creates for globals (.bss, .data, .rodata, .kconfig) are skipped: they are not user maps. */
function isInternalMap(name: string): boolean {
  return name.includes('.');
}

/**
 * The maps of `obj`, in the phases of `opts.lifecycle` (an Lbc's): opened, they take set-up
 * (maxEntries, valueSize, pinPath, reuseFd); loaded, after `afterLoad()`, they read and write.
 * Without a lifecycle, the maps of an object already loaded.
 */
export function createMaps(native: NativeAddon, obj: NativeObject, btfOrRaw: Btf | Buffer | null, opts: { lifecycle?: ObjectLifecycle; objectName?: string } = {}): MapSet {
  const objectName = opts.lifecycle?.objectName ?? opts.objectName ?? 'object';
  const lifecycle = opts.lifecycle ?? new ObjectLifecycle(objectName, 'loaded');
  const btf = btfOrRaw === null ? null : Buffer.isBuffer(btfOrRaw) ? parseObjectBtf(btfOrRaw, objectName) : btfOrRaw;
  let cpus: number | undefined;
  const maps = new Map<string, LbcMap>();
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
      lifecycle,
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
    maps.set(info.name, new LbcMap(ctx, eventType !== undefined && btf ? codecFor(btf, eventType) : undefined, recordedHistScale(btf, info.name)));
  }
  const record: LbcMaps = {};
  for (const [name, map] of maps) Object.defineProperty(record, name, { value: map, enumerable: true });
  const names = [...maps.keys()];
  const missing = (name: string) =>
    new LbcError('LBC_ERR_MAP_NOT_FOUND', `${opts.lifecycle || opts.objectName ? objectName : 'the object'} has no map ${JSON.stringify(name)}; it has: ${names.join(', ') || 'none'}`, { map: name, maps: names });
  return {
    maps: strictNames(record, maps, missing),
    close: () => {
      for (const m of maps.values()) m.close();
      lifecycle.close();
    },
    afterLoad: () => {
      for (const ctx of contexts) ctx.refresh();
    },
  };
}
