/** Layout questions the decoder and encoder answer the same way. */
import type { Btf, BtfMember, BtfType } from '@lbc/btf';

const CHAR_NAMES = new Set(['char', 'signed char', 'unsigned char']);

/**
 * Bounds on building a decoder or encoder from an object's BTF. BTF may nest a struct in itself
 * or 8 structs in 8 structs ... (8^depth parts); real event and map types stay far below these,
 * and a type past them is a TypeError instead of a stack overflow or a heap filled with code.
 */
export const MAX_VALUE_DEPTH = 64;
export const MAX_VALUE_PARTS = 100_000;

/** Counts the parts a decoder or encoder generation visits and how deep it is. */
export class ValueWalkBudget {
  private parts = 0;
  private depth = 0;

  constructor(
    private readonly btf: Btf,
    private readonly verb: 'decode' | 'encode',
  ) {}

  visit<T>(id: number, work: () => T): T {
    if (++this.parts > MAX_VALUE_PARTS || this.depth >= MAX_VALUE_DEPTH) {
      throw new TypeError(`cannot ${this.verb} ${this.btf.describe(id)}: its type nests deeper than ${MAX_VALUE_DEPTH} levels or has more than ${MAX_VALUE_PARTS} parts`);
    }
    this.depth++;
    try {
      return work();
    } finally {
      this.depth--;
    }
  }
}

/**
 * `char[N]` and `unsigned char[N]` are C strings; `u8[N]`/`__u8[N]`/`uint8_t[N]` (a typedef in
 * between) are byte arrays such as addresses, so they stay numbers.
 */
export function isStringArray(btf: Btf, elementId: number): boolean {
  let t: BtfType = btf.type(elementId);
  while (t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') t = btf.type(t.type);
  return t.kind === 'int' && t.size === 1 && !t.bool && (t.char || CHAR_NAMES.has(t.name));
}

export interface FlatMember {
  /** The JS property name. */
  name: string;
  type: number;
  /** Bit offset from the start of the outermost struct being flattened. */
  bitOffset: number;
  bitSize: number;
  /**
   * Set for members lifted out of an anonymous union: they are alternative views of the same
   * bytes, so a value needs only one member of each group.
   */
  unionGroup?: number;
}

/**
 * Members of a struct/union as JS properties: anonymous struct/union members are lifted into the
 * parent (C reaches them as parent.field) and unnamed bitfield padding is dropped.
 */
export function flatMembers(btf: Btf, members: readonly BtfMember[], baseBits = 0): FlatMember[] {
  const out: FlatMember[] = [];
  let groups = 0;
  let visited = 0;
  const walk = (list: readonly BtfMember[], base: number, group: number | undefined, depth: number) => {
    if (depth > MAX_VALUE_DEPTH || (visited += list.length) > MAX_VALUE_PARTS) {
      throw new TypeError(`anonymous members nest deeper than ${MAX_VALUE_DEPTH} levels or number more than ${MAX_VALUE_PARTS}`);
    }
    for (const m of list) {
      if (m.name) {
        out.push({ name: m.name, type: m.type, bitOffset: base + m.bitOffset, bitSize: m.bitSize, ...(group === undefined ? {} : { unionGroup: group }) });
        continue;
      }
      const inner = btf.resolve(m.type);
      if (inner.kind !== 'struct' && inner.kind !== 'union') continue;
      walk(inner.members, base + m.bitOffset, group ?? (inner.kind === 'union' ? groups++ : undefined), depth + 1);
    }
  };
  walk(members, baseBits, undefined, 0);
  return out;
}

/** Integer-like layout of a scalar type (int, enum, pointer), or null. */
export function scalarLayout(t: BtfType): { size: number; signed: boolean } | null {
  if (t.kind === 'int') return { size: t.size, signed: t.signed };
  if (t.kind === 'enum') return { size: t.size, signed: t.signed };
  if (t.kind === 'ptr') return { size: 8, signed: false };
  return null;
}
