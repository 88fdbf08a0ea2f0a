/** /proc/PID/maps: which file (and where in it) an address of a process comes from. */
import { readFileSync } from 'node:fs';

export interface Mapping {
  start: number;
  end: number;
  perms: string;
  /** File offset of `start`. */
  offset: number;
  /** Backing file, or a pseudo name such as "[vdso]" / "" for anonymous memory. */
  path: string;
}

export function parseProcMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \d+\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], offset: parseInt(m[4], 16), path: m[5] });
  }
  return out;
}

/** Mappings of a live process; [] once it has exited. */
export function readProcMaps(pid: number): Mapping[] {
  try {
    return parseProcMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'));
  } catch {
    return [];
  }
}

export function findMapping(maps: readonly Mapping[], addr: number): Mapping | undefined {
  return maps.find((m) => addr >= m.start && addr < m.end);
}
