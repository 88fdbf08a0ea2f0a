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
}

export interface EventBufferTarget {
  readonly name: string;
  readonly rodata: Record<string, unknown>;
  hasMap(name: string): boolean;
  setMapAutocreate(name: string, on: boolean): void;
}

export function chooseEventBuffer(target: EventBufferTarget, ringbufSupported: boolean, names: EventBufferNames = {}): EventBufferChoice {
  const ring = names.ring ?? 'events';
  const perf = names.perf ?? `${ring}_perf`;
  const flag = names.flag ?? 'use_ringbuf';
  for (const map of [ring, perf]) {
    if (!target.hasMap(map)) {
      throw new LbcError('LBC_ERR_MAP_NOT_FOUND', `${target.name} has no map ${JSON.stringify(map)}: the ring buffer fallback needs a ring buffer map and its perf event array twin`, { map });
    }
  }
  target.rodata[flag] = ringbufSupported;
  target.setMapAutocreate(ringbufSupported ? perf : ring, false);
  return ringbufSupported ? { map: ring, kind: 'ringbuf' } : { map: perf, kind: 'perf' };
}
