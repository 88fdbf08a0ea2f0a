/** How `lbc run` prints one event: a readable line, or one JSON object per line. */

/** JSON has no bigint and no Buffer: bigints within 2^53 become numbers, others strings; bytes become hex. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}

export function eventJson(map: string, cpu: number, event: unknown): string {
  return JSON.stringify({ map, ...(cpu >= 0 ? { cpu } : {}), event: jsonSafe(event) });
}

/** A value on one line: strings quoted, bytes in hex, structs as {a=1 b=2}. */
export function inline(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (Array.isArray(value)) return `[${value.map(inline).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}=${inline(v)}`).join(' ')}}`;
  return String(value);
}

/** "perf_events cpu=1 pid=123 comm="true"": the map, then the event's fields. */
export function eventLine(map: string, cpu: number, event: unknown): string {
  const fields = event && typeof event === 'object' && !Buffer.isBuffer(event) && !Array.isArray(event)
    ? Object.entries(event).map(([k, v]) => `${k}=${inline(v)}`).join(' ')
    : inline(event);
  return `${map}${cpu >= 0 ? ` cpu=${cpu}` : ''} ${fields}`;
}
