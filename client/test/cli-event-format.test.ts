import { describe, it, expect } from 'vitest';
import { eventJson, eventLine, jsonSafe } from '../src/cli/event-format.ts';

describe('lbc run event printing', () => {
  it('prints one readable line: map, cpu, fields', () => {
    expect(eventLine('perf_events', 1, { pid: 42, comm: 'true', ts: 10n })).toBe('perf_events cpu=1 pid=42 comm="true" ts=10');
    expect(eventLine('ring_events', -1, { a: { b: [1, 2] } })).toBe('ring_events a={b=[1,2]}');
    expect(eventLine('raw', -1, Buffer.from([0xde, 0xad]))).toBe('raw dead');
  });

  it('prints JSON lines with bigints as numbers when exact, strings otherwise', () => {
    expect(JSON.parse(eventJson('m', 0, { small: 5n, big: 2n ** 63n, raw: Buffer.from([1]) }))).toEqual({
      map: 'm',
      cpu: 0,
      event: { small: 5, big: '9223372036854775808', raw: '01' },
    });
    expect(JSON.parse(eventJson('ring', -1, { x: 1 }))).toEqual({ map: 'ring', event: { x: 1 } });
    expect(jsonSafe([-(2n ** 60n)])).toEqual(['-1152921504606846976']);
  });
});
