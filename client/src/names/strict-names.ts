/**
 * Records of C names (lbc.maps, lbc.programs) that answer a name they do not hold with an error
 * listing the names they do, instead of `undefined` and a TypeError one step later
 * (`lbc.programs.typo.autoload = false`). C names come first: a map named `close` or a program
 * named `map` is reached by that name, whatever member the record would otherwise have.
 */

/** Names generic code probes on any object (promises, JSON, test matchers, inspectors): never a typo. */
const PROBED = new Set(['then', 'toJSON', 'asymmetricMatch', 'nodeType', 'tagName', 'inspect', '__esModule', '_isMockFunction']);
const C_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `target` with `named` in front of its own members (except `reserved`, members the target's
 * machinery reads itself, such as an array's length), and `missing(name)` thrown for a C
 * identifier that is neither.
 */
export function strictNames<T extends object>(target: T, named: ReadonlyMap<string, unknown>, missing: (name: string) => Error, reserved: ReadonlySet<string> = new Set()): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop !== 'string') return Reflect.get(t, prop, receiver);
      if (named.has(prop) && !reserved.has(prop)) return named.get(prop);
      if (prop in t || PROBED.has(prop) || !C_IDENTIFIER.test(prop)) return Reflect.get(t, prop, receiver);
      throw missing(prop);
    },
    has(t, prop) {
      return (typeof prop === 'string' && named.has(prop)) || Reflect.has(t, prop);
    },
  });
}
