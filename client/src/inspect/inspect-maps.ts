/** `lbc inspect maps`, `lbc inspect map ID [--dump]`: loaded maps with full names, BTF types and decoded entries. */
import { LbcError } from '@lbc/contract';
import type { KernelMapDetail, NativeMapInfo } from '../native/types.ts';
import { KeyValueOps } from '../maps/key-value-ops.ts';
import { mapCodec } from '../maps/map-codecs.ts';
import { isPerCpu } from '../maps/map-types.ts';
import type { MapContext } from '../maps/map-context.ts';
import { ObjectLifecycle } from '../lifecycle/object-lifecycle.ts';
import { mapFullName, mapTypeSpelling, programFullName } from './btf-names.ts';
import { KernelView, inspectError } from './kernel-view.ts';
import { pinKey, scanPins } from './pinned-paths.ts';

export interface InspectedMap {
  id: number;
  /** enum bpf_map_type, and libbpf's name for it: "hash", "array", "ringbuf", ... */
  type: number;
  typeName: string;
  /** Full name from the object's BTF (.maps), not the kernel's 15 characters. */
  name: string;
  kernelName: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** C spelling of the key and value types, where the loader gave the kernel BTF for them. */
  keyType?: string;
  valueType?: string;
  btfId?: number;
}

export interface InspectedMapDetail extends InspectedMap {
  /** Entries present (hash-like maps walked key by key; arrays: max_entries); absent for maps without keys. */
  entries?: number;
  /** Programs using it. */
  usedBy: Array<{ id: number; name: string }>;
  pinned: string[];
}

export interface MapDump {
  map: InspectedMap;
  /** Decoded by the map's BTF types (per-CPU maps: one value per possible CPU). */
  entries: Array<{ key: unknown; value: unknown }>;
  /** More entries than `limit` were there. */
  truncated: boolean;
}

// Maps whose elements are read by key with BPF_MAP_LOOKUP_ELEM.
const DUMPABLE = new Set(['hash', 'array', 'percpu_hash', 'percpu_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'cgroup_array', 'array_of_maps', 'hash_of_maps', 'devmap', 'devmap_hash', 'cpumap', 'xskmap', 'sockmap', 'sockhash']);

export function inspectMaps(view = new KernelView()): InspectedMap[] {
  const out: InspectedMap[] = [];
  for (const id of view.ids('map')) {
    const map = view.mapOrNull(id);
    if (map) out.push(summarize(view, map));
  }
  return out;
}

export function inspectMap(id: number, view = new KernelView()): InspectedMapDetail {
  const map = view.map(id);
  const usedBy: InspectedMapDetail['usedBy'] = [];
  for (const p of view.ids('prog')) {
    const prog = view.programOrNull(p);
    if (prog?.mapIds.includes(id)) usedBy.push({ id: p, name: programFullName(view, prog) });
  }
  const entries = map.typeName === 'array' || map.typeName === 'percpu_array' ? map.maxEntries : DUMPABLE.has(map.typeName) ? countKeys(view, map) : undefined;
  return {
    ...summarize(view, map),
    ...(entries !== undefined ? { entries } : {}),
    usedBy,
    pinned: scanPins(view.native).get(pinKey('map', id)) ?? [],
  };
}

/** The map's entries decoded by its BTF key/value types (raw sizes as numbers or Buffers without BTF). */
export function dumpMap(id: number, opts: { limit?: number } = {}, view = new KernelView()): MapDump {
  const map = view.map(id);
  const limit = opts.limit ?? 10_000;
  if (!DUMPABLE.has(map.typeName)) {
    throw new LbcError('LBC_ERR_INSPECT_DUMP_UNSUPPORTED', `map ${id} (${map.name}) is a ${map.typeName} map`, { id, type: map.typeName });
  }
  return withMapContext(view, map, (ops) => {
    const keys = ops.rawKeys();
    const entries: MapDump['entries'] = [];
    for (const raw of keys.slice(0, limit)) {
      const value = ops.lookupRaw(raw);
      if (value !== undefined) entries.push({ key: ops.decodeKey(raw), value });
    }
    return { map: summarize(view, map), entries, truncated: keys.length > limit };
  });
}

function summarize(view: KernelView, map: KernelMapDetail): InspectedMap {
  const keyType = mapTypeSpelling(view, map, 'key');
  const valueType = mapTypeSpelling(view, map, 'value');
  return {
    id: map.id,
    type: map.type,
    typeName: map.typeName,
    name: mapFullName(view, map),
    kernelName: map.name,
    keySize: map.keySize,
    valueSize: map.valueSize,
    maxEntries: map.maxEntries,
    flags: map.flags,
    ...(keyType ? { keyType } : {}),
    ...(valueType ? { valueType } : {}),
    ...(map.btfId ? { btfId: map.btfId } : {}),
  };
}

function countKeys(view: KernelView, map: KernelMapDetail): number | undefined {
  try {
    return withMapContext(view, map, (ops) => ops.rawKeys().length);
  } catch {
    return undefined;
  }
}

interface DumpOps {
  rawKeys(): Buffer[];
  decodeKey(raw: Buffer): unknown;
  lookupRaw(raw: Buffer): unknown;
}

/** The client's own map operations and codecs, on an fd for a map some other program owns. */
function withMapContext<T>(view: KernelView, map: KernelMapDetail, use: (ops: DumpOps) => T): T {
  const native = view.native;
  let fd: number;
  try {
    fd = native.mapFdById(map.id);
  } catch (err) {
    throw inspectError(err, 'map', map.id);
  }
  try {
    const btf = view.btf(map.btfId)?.btf ?? null;
    const info: NativeMapInfo = {
      name: map.name,
      type: map.type,
      typeName: map.typeName,
      fd,
      id: map.id,
      keySize: map.keySize,
      valueSize: map.valueSize,
      maxEntries: map.maxEntries,
      btfKeyTypeId: map.btfKeyTypeId,
      btfValueTypeId: map.btfValueTypeId,
      mapFlags: map.flags,
      internal: false,
      autocreate: true,
    };
    const perCpu = isPerCpu(map.type);
    const ctx: MapContext = {
      native,
      info,
      btf,
      key: mapCodec(btf, map.btfKeyTypeId, map.keySize, 'key'),
      value: mapCodec(btf, map.btfValueTypeId, map.valueSize, 'value'),
      cpus: perCpu ? native.numPossibleCpus() : 1,
      perCpu,
      lifecycle: new ObjectLifecycle(`map ${map.id}`, 'loaded'),
      refresh: () => {},
    };
    const ops = new KeyValueOps(ctx);
    return use({
      rawKeys: () => ops.rawKeys(),
      decodeKey: (raw) => ctx.key.decode(raw, 0),
      lookupRaw: (raw) => ops.getRaw(raw),
    });
  } finally {
    native.closeFd(fd);
  }
}
