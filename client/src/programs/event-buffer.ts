/**
 * The ring buffer → perf buffer fallback, as libbpf-tools' bpf_buffer does it, declared in C as
 * a ring buffer map, a perf event array twin and a `const volatile bool` saying which one to use:
 *
 *   const volatile bool use_ringbuf = true;
 *   struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 16); } events SEC(".maps");
 *   struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } events_perf SEC(".maps");
 *   ...
 *   if (use_ringbuf) bpf_ringbuf_output(&events, &e, sizeof(e), 0);
 *   else bpf_perf_event_output(ctx, &events_perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
 *
 * Before load, chooseEventBuffer() sets the flag and leaves the unused map uncreated; the verifier
 * drops the branch that names it (the flag is a frozen constant).
 *
 * libbpf-tools' own layout (compat.bpf.h / compat.c, bpf_buffer) is taken too: one `events` map
 * declared as a ring buffer and a `heap` array the perf path builds its records in. Where the kernel
 * has ring buffers the heap is not created; where it has none, `events` becomes a perf event array
 * (type, key and value size 4), as bpf_buffer__new() does. (Their BPF side chooses its helpers with
 * bpf_core_type_exists(struct bpf_ringbuf); a `use_ringbuf` flag, when the object has one, is set too.)
 */
import { LbcError } from '@lbc/contract';

export interface EventBufferChoice {
  /** The map to read events from. */
  map: string;
  kind: 'ringbuf' | 'perf';
}

export interface EventBufferNames {
  /** The ring buffer map (default 'events'). */
  ring?: string;
  /** The perf event array twin (default: ring + '_perf'). */
  perf?: string;
  /** The const volatile bool in .rodata (default 'use_ringbuf'). */
  flag?: string;
  /** libbpf-tools' layout: the array the perf path builds records in (default 'heap'), used when there is no perf twin. */
  heap?: string;
}

export interface EventBufferTarget {
  readonly name: string;
  readonly rodata: Record<string, unknown>;
  hasMap(name: string): boolean;
  setMapAutocreate(name: string, on: boolean): void;
  /** libbpf-tools' layout: turns the ring buffer map into a perf event array. */
  makePerfEventArray(name: string): void;
}

const BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4;

/** bpf_buffer__new()'s switch: a perf event array's keys and values are 4-byte CPU indexes and fds. */
export function perfEventArraySetup(map: { type: number | string; keySize: number; valueSize: number }): void {
  map.type = BPF_MAP_TYPE_PERF_EVENT_ARRAY;
  map.keySize = 4;
  map.valueSize = 4;
}

export function chooseEventBuffer(target: EventBufferTarget, ringbufSupported: boolean, names: EventBufferNames = {}): EventBufferChoice {
  const ring = names.ring ?? 'events';
  const perf = names.perf ?? `${ring}_perf`;
  const flag = names.flag ?? 'use_ringbuf';
  const heap = names.heap ?? 'heap';
  if (target.hasMap(ring) && !target.hasMap(perf) && names.perf === undefined && target.hasMap(heap)) {
    if (flag in target.rodata) target.rodata[flag] = ringbufSupported;
    if (ringbufSupported) {
      target.setMapAutocreate(heap, false);
      return { map: ring, kind: 'ringbuf' };
    }
    target.makePerfEventArray(ring);
    return { map: ring, kind: 'perf' };
  }
  for (const map of [ring, perf]) {
    if (!target.hasMap(map)) {
      throw new LbcError(
        'LBC_ERR_MAP_NOT_FOUND',
        `${target.name} has no map ${JSON.stringify(map)}: the ring buffer fallback needs a ring buffer map and its perf event array twin (or, as libbpf-tools' compat.bpf.h has it, the ring buffer and a ${JSON.stringify(heap)} map)`,
        { map },
      );
    }
  }
  target.rodata[flag] = ringbufSupported;
  target.setMapAutocreate(ringbufSupported ? perf : ring, false);
  return ringbufSupported ? { map: ring, kind: 'ringbuf' } : { map: perf, kind: 'perf' };
}
