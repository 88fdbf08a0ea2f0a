/**
 * `lbc.rodata.target_pid = 1234`: a section's variables as plain-looking properties. A Proxy, so
 * that setting a name the section does not have is an error (LBC_ERR_GLOBAL_NOT_FOUND) instead
 * of a property that silently goes nowhere.
 */
import type { GlobalSection } from './global-section.ts';

/** Variables by name; values decode as the value codecs do (numbers, bigints for 64-bit, strings, objects). */
export type GlobalVars = Record<string, unknown>;

export function globalVars(section: GlobalSection): GlobalVars {
  const target: GlobalVars = Object.create(null);
  return new Proxy(target, {
    get(_, key) {
      if (typeof key !== 'string') return undefined;
      if (key === 'toJSON') return () => section.toJSON();
      // Duck-typing probes (await, util.inspect, vitest) must not throw.
      if (!section.variables.has(key)) return undefined;
      return section.get(key);
    },
    set(_, key, value) {
      section.set(String(key), value);
      return true;
    },
    has: (_, key) => typeof key === 'string' && section.variables.has(key),
    ownKeys: () => [...section.variables.keys()],
    getOwnPropertyDescriptor(_, key) {
      if (typeof key !== 'string' || !section.variables.has(key)) return undefined;
      return { value: section.get(key), writable: true, enumerable: true, configurable: true };
    },
    defineProperty(_, key, desc) {
      section.set(String(key), desc.value);
      return true;
    },
    deleteProperty: () => false,
  });
}
