/**
 * A map the kernel refused to create, said as libbpf-tools users need it: which map, its type and
 * sizes, and the likely reason (libbpf prints only "map 'start': failed to create", and the load
 * error carried the errno of the whole object).
 */
import { LbcError } from '@lbc/contract';
import type { NativeMapInfo } from '../native/types.ts';
import { MAP_TYPE } from '../maps/map-types.ts';
import { errnoName } from './native-error.ts';

const EPERM = 1;
const ENOMEM = 12;
const EINVAL = 22;
const E2BIG = 7;

/** libbpf: "map 'NAME': failed to create: ..." (also "... failed to create inner map"). */
export function failedMapName(libbpfLog: string): string | undefined {
  return /map '([^']+)': failed to create/.exec(libbpfLog)?.[1];
}

function likelyReason(map: NativeMapInfo, errno: number | undefined): string {
  const bytes = map.maxEntries * (map.keySize + map.valueSize);
  if (map.maxEntries === 0 && map.type !== MAP_TYPE.PERF_EVENT_ARRAY) {
    return (
      'max_entries is 0: the program leaves the size for user space to set, as libbpf-tools do with bpf_map__set_max_entries(). ' +
      `Create the Lbc with { load: false }, set lbc.maps.${map.name}.maxEntries = N, then await lbc.load()`
    );
  }
  if (map.type === MAP_TYPE.RINGBUF && (map.maxEntries & (map.maxEntries - 1)) !== 0) {
    return `a ring buffer's size (max_entries ${map.maxEntries}) must be a power of two and a multiple of the page size`;
  }
  if ((map.type === MAP_TYPE.HASH || map.type === MAP_TYPE.LRU_HASH || map.type === MAP_TYPE.PERCPU_HASH || map.type === MAP_TYPE.LRU_PERCPU_HASH) && (map.keySize === 0 || map.valueSize === 0)) {
    return `a hash map needs a key and a value of at least one byte (key ${map.keySize}, value ${map.valueSize})`;
  }
  if (errno === E2BIG) return `the key or value is larger than this map type allows (key ${map.keySize} bytes, value ${map.valueSize} bytes)`;
  if (errno === ENOMEM || errno === EPERM) {
    return `not enough memory for it (max_entries ${map.maxEntries} × ${map.keySize + map.valueSize} bytes ≈ ${Math.ceil(bytes / 1024)} KiB, within the memlock limit or memory cgroup): lower max_entries, or run as root`;
  }
  if (errno === EINVAL) return `this kernel refuses the ${map.typeName} map with these sizes or flags (key ${map.keySize}, value ${map.valueSize}, max_entries ${map.maxEntries}, flags 0x${map.mapFlags.toString(16)}), or does not have this map type`;
  return `see the errno`;
}

export function mapCreateError(map: NativeMapInfo, errno: number | undefined, objectName: string, libbpfLog: string, cause: unknown): LbcError {
  const reason = likelyReason(map, errno);
  return new LbcError(
    'LBC_ERR_MAP_CREATE',
    `${objectName}: map '${map.name}' (${map.typeName}, key ${map.keySize} B, value ${map.valueSize} B, max_entries ${map.maxEntries}) could not be created: ${errnoName(errno)}. Likely: ${reason}`,
    { object: objectName, map: map.name, mapType: map.typeName, keySize: map.keySize, valueSize: map.valueSize, maxEntries: map.maxEntries, errno, errnoName: errnoName(errno), libbpfLog: libbpfLog || undefined },
    { cause },
  );
}
