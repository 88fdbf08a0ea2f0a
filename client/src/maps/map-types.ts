/** enum bpf_map_type values lbc treats specially (linux/bpf.h). */
export const MAP_TYPE = {
  HASH: 1,
  ARRAY: 2,
  PROG_ARRAY: 3,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  STACK_TRACE: 7,
  CGROUP_ARRAY: 8,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11,
  PERCPU_CGROUP_STORAGE: 21,
  QUEUE: 22,
  STACK: 23,
  RINGBUF: 27,
} as const;

const NAMES = new Map<number, string>(Object.entries(MAP_TYPE).map(([k, v]) => [v, k.toLowerCase()]));

export function mapTypeName(type: number): string {
  return NAMES.get(type) ?? `type ${type}`;
}

/** 'perf_event_array' or 'PERF_EVENT_ARRAY' (or BPF_MAP_TYPE_…) → 4; undefined for a name lbc does not know. */
export function mapTypeByName(name: string): number | undefined {
  const key = name.toUpperCase().replace(/^BPF_MAP_TYPE_/, '') as keyof typeof MAP_TYPE;
  return Object.hasOwn(MAP_TYPE, key) ? MAP_TYPE[key] : undefined;
}

export function mapTypeNames(): string[] {
  return [...NAMES.values()];
}

export function isPerCpu(type: number): boolean {
  return type === MAP_TYPE.PERCPU_HASH || type === MAP_TYPE.PERCPU_ARRAY || type === MAP_TYPE.LRU_PERCPU_HASH || type === MAP_TYPE.PERCPU_CGROUP_STORAGE;
}

/** Array-like maps: every index in [0, max_entries) exists and entries cannot be deleted. */
export function isArrayLike(type: number): boolean {
  return type === MAP_TYPE.ARRAY || type === MAP_TYPE.PERCPU_ARRAY;
}
