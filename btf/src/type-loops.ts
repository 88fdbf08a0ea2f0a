/**
 * Type loops no C program can produce. A typedef, qualifier, array or pointer names exactly one
 * other type, so following those links from any type either ends at a type with its own layout
 * (int, struct, enum, func_proto, ...) or comes back round. Loops through a struct member or a
 * function prototype are how C writes `struct list_head { struct list_head *next; }` and stay;
 * a loop made only of such links (`typedef B A; typedef A B;`, `T = T *`) describes no type, is
 * what the kernel refuses as "Loop detected", and sends every tool that walks it into a spin.
 */
import { BtfParseError } from './errors.ts';
import type { BtfType } from './types.ts';

const LINKS = new Set<BtfType['kind']>(['typedef', 'volatile', 'const', 'restrict', 'type_tag', 'ptr', 'array']);

const ON_PATH = 1;
const DONE = 2;

/** Throws BtfParseError naming the first loop found; linear in the number of types. */
export function checkTypeLoops(types: readonly BtfType[]): void {
  const state = new Uint8Array(types.length);
  const path: number[] = [];
  for (let start = 1; start < types.length; start++) {
    let id = start;
    while (state[id] === 0 && LINKS.has(types[id]!.kind)) {
      state[id] = ON_PATH;
      path.push(id);
      id = (types[id] as Extract<BtfType, { type: number }>).type;
    }
    if (state[id] === ON_PATH) {
      const loop = path.slice(path.indexOf(id));
      const shown = loop.slice(0, 8).map((t) => `${types[t]!.kind} ${t}${types[t]!.name ? ` '${types[t]!.name}'` : ''}`);
      throw new BtfParseError(`type loop: ${shown.join(' → ')}${loop.length > 8 ? ` → … (${loop.length} types)` : ''} → back to type ${id}; no C type is its own ${types[id]!.kind}`);
    }
    for (const t of path) state[t] = DONE;
    path.length = 0;
  }
}
