/** What one consumer of bench/ringbuf-throughput.ts reports, C or JS. */

/** The JS consumers: how each reads the ring (bench/ringbuf-js-consumer.ts). */
export const PATHS = ['batch', 'typed', 'arena', 'copied', 'lent'] as const;
export type Path = (typeof PATHS)[number];

export interface Delivery {
  received: number;
  ms: number;
  /** Records the kernel could not place (ring full). */
  dropped: number;
  /** Breaks in the sequence numbers as received. */
  gaps: number;
  /** The producer's own rate (records/s), as it reports it. */
  produced?: number;
}

/** The producer prints "produced N in S s" on stderr. */
export function producedRate(stderr: string): number | undefined {
  const m = /produced (\d+) in ([\d.]+) s/.exec(stderr);
  return m ? Number(m[1]) / Number(m[2]) : undefined;
}
