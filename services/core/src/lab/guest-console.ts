/**
 * What a guest says on its serial console. Lines are matched by substring, never from the line's
 * start: SeaBIOS's clear-screen escape glues the first guest line onto "Booting from ROM".
 */
export const GUEST_MARKER = {
  /** Printed by /init once the file systems are mounted, with the guest's uptime in seconds. */
  init: '@@LBC-LAB-INIT@@',
  /** A result line: the marker, a space, one JSON value. */
  record: '@@LBC-LAB@@',
  /** Printed by /init after /lab/run: its exit status and the uptime. */
  exit: '@@LBC-LAB-EXIT@@',
} as const;

export interface ConsoleReading {
  /** The JSON values of every record line, in order. */
  records: unknown[];
  /** /lab/run's exit status, once the exit marker was seen. */
  exitCode?: number;
  initSeen: boolean;
  /** Record lines whose JSON did not parse (a run printing over itself, say). */
  malformed: string[];
}

/** Reads complete console lines. */
export function readConsole(lines: readonly string[]): ConsoleReading {
  const reading: ConsoleReading = { records: [], initSeen: false, malformed: [] };
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    let at = line.indexOf(GUEST_MARKER.record);
    if (at >= 0) {
      const json = line.slice(at + GUEST_MARKER.record.length).trim();
      try {
        reading.records.push(JSON.parse(json));
      } catch {
        reading.malformed.push(line);
      }
      continue;
    }
    if (line.includes(GUEST_MARKER.init)) reading.initSeen = true;
    at = line.indexOf(GUEST_MARKER.exit);
    if (at >= 0) reading.exitCode = Number(line.slice(at + GUEST_MARKER.exit.length).trim().split(/\s+/)[0]);
  }
  return reading;
}

/** How a program in the guest reports one result: print the returned line on stdout. */
export function recordLine(value: unknown): string {
  return `${GUEST_MARKER.record} ${JSON.stringify(value)}`;
}
