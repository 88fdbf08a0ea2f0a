/**
 * Where a value lives while an expression is resolved, and how ftrace's fetch-arg syntax spells it:
 * in a register or variable (%di, $retval), in memory at an offset from another fetch
 * (+0x68(%di)), or at a fixed kernel address (@jiffies+0x8, @0xffff...).
 */
export type Location =
  | { kind: 'value'; text: string }
  | { kind: 'memory'; base: string; offset: number }
  | { kind: 'symbol'; name: string; offset: number }
  | { kind: 'address'; value: bigint };

/** The fetch arg that yields the value at this location. */
export function fetchOf(loc: Location): string {
  switch (loc.kind) {
    case 'value':
      return loc.text;
    case 'memory':
      return `${signedHex(loc.offset)}(${loc.base})`;
    case 'symbol':
      return loc.offset ? `@${loc.name}${signedHex(loc.offset)}` : `@${loc.name}`;
    case 'address':
      return `@0x${loc.value.toString(16)}`;
  }
}

/** The location `bytes` further on (a member of a struct held there, an array element). */
export function advance(loc: Location, bytes: number): Location | undefined {
  switch (loc.kind) {
    case 'memory': case 'symbol':
      return { ...loc, offset: loc.offset + bytes };
    case 'address':
      return { kind: 'address', value: loc.value + BigInt(bytes) };
    case 'value':
      return undefined;
  }
}

/** The memory a pointer value points at, `bytes` in. */
export function deref(pointer: Location, bytes: number): Location {
  return { kind: 'memory', base: fetchOf(pointer), offset: bytes };
}

function signedHex(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `+0x${n.toString(16)}`;
}
