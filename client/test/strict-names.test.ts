/** Records of C names: unknown names throw listing the known ones; generic probes and array machinery still work. */
import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { strictNames } from '../src/names/strict-names.ts';

const missing = (name: string) => new Error(`no ${name}`);

describe('strictNames', () => {
  it('puts C names before the target\'s own members and throws for an unknown identifier', () => {
    const record = strictNames({ close: 'the map' } as Record<string, string>, new Map([['close', 'the map']]), missing);
    expect(record.close).toBe('the map');
    expect(() => record.typo).toThrow('no typo');
    expect('typo' in record).toBe(false);
    expect(record.toString).toBe(Object.prototype.toString);
  });

  it('answers what promises, JSON, inspectors and matchers probe for without throwing', async () => {
    const record = strictNames({ a: 1 } as Record<string, number>, new Map([['a', 1]]), missing);
    expect(await Promise.resolve(record)).toBe(record);
    expect(JSON.stringify(record)).toBe('{"a":1}');
    expect(inspect(record)).toContain('a: 1');
    expect(record).toEqual({ a: 1 });
  });

  it('leaves an array usable when a C name is an array method, except the members arrays read themselves', () => {
    const items = [{ name: 'map' }, { name: 'length' }];
    const list = strictNames([...items], new Map(items.map((i) => [i.name, i])), missing, new Set(['length', 'constructor']));
    expect(list.map).toBe(items[0]);
    expect(list.length).toBe(2);
    expect([...list].map((i) => i.name)).toEqual(['map', 'length']);
    expect(list.filter((i) => i.name === 'length')).toEqual([items[1]]);
    expect(list[1]).toBe(items[1]);
  });
});
