import type { BtfKindName, BtfType, BtfTypeOf } from './types.ts';

const MODIFIERS = new Set<BtfKindName>(['typedef', 'volatile', 'const', 'restrict', 'type_tag']);
/**
 * How far the helpers follow typedef/qualifier/array/pointer links. The parser refuses loops, but a
 * loop-free chain can still be as long as the BTF has types: walks stop here instead of spinning
 * or running out of stack (real kernels stay under 10; the kernel's own resolver stops at 32).
 */
export const MAX_CHAIN_DEPTH = 64;

/** A parsed BTF type table with the look-ups decoders and the service need. */
export class Btf {
  readonly types: readonly BtfType[];
  private byNameIndex?: Map<string, BtfType[]>;

  constructor(types: BtfType[]) {
    this.types = types;
  }

  get count(): number {
    return this.types.length - 1;
  }

  type(id: number): BtfType {
    const t = this.types[id];
    if (!t) throw new RangeError(`no BTF type ${id}`);
    return t;
  }

  /** Skips typedef/const/volatile/restrict/type_tag down to the type that has a layout. */
  resolve(id: number): BtfType {
    let t: BtfType = this.type(id);
    for (let depth = 0; MODIFIERS.has(t.kind); depth++) {
      if (depth > MAX_CHAIN_DEPTH) throw new RangeError(`BTF type ${id}: modifier chain too deep`);
      t = this.type((t as BtfTypeOf<'typedef'>).type);
    }
    return t;
  }

  /** Size in bytes, like C's sizeof. Arrays of arrays multiply out in a loop, not by recursion. */
  sizeof(id: number): number {
    let count = 1;
    let t = this.resolve(id);
    for (let depth = 0; t.kind === 'array'; depth++) {
      if (depth > MAX_CHAIN_DEPTH) throw new RangeError(`BTF type ${id}: array nesting too deep`);
      count *= t.length;
      t = this.resolve(t.type);
    }
    switch (t.kind) {
      case 'int': case 'struct': case 'union': case 'enum': case 'float': case 'datasec':
        return count * t.size;
      case 'ptr':
        return count * 8;
      default:
        throw new TypeError(`BTF type ${id} (${t.kind}) has no size`);
    }
  }

  /** Types with this name, optionally of one kind. */
  findByName<K extends BtfKindName>(name: string, kind?: K): BtfTypeOf<K>[] {
    if (!this.byNameIndex) {
      this.byNameIndex = new Map();
      for (const t of this.types) {
        if (!t.name) continue;
        const list = this.byNameIndex.get(t.name);
        if (list) list.push(t);
        else this.byNameIndex.set(t.name, [t]);
      }
    }
    const found = this.byNameIndex.get(name) ?? [];
    return (kind ? found.filter((t) => t.kind === kind) : found) as BtfTypeOf<K>[];
  }

  /**
   * Looks a C type spelling up: "struct event", "union u", "enum e", or a typedef/base type name
   * such as "u32" or "unsigned int". Returns the type id, or undefined.
   */
  lookupCType(spelling: string): number | undefined {
    const s = spelling.trim().replace(/\s+/g, ' ');
    const m = /^(struct|union|enum) (\S+)$/.exec(s);
    if (m) {
      const [, tag, name] = m;
      const kind = tag as 'struct' | 'union' | 'enum';
      const hit = this.findByName(name!, kind)[0];
      return hit?.id;
    }
    const hit = this.findByName(s).find((t) => t.kind === 'typedef' || t.kind === 'int' || t.kind === 'float');
    return hit?.id;
  }

  /** Decl tags ("btf_decl_tag" strings) attached to a type, or to one of its members/params. */
  declTags(id: number, componentIdx = -1): string[] {
    const tags: string[] = [];
    for (const t of this.types) {
      if (t.kind === 'decl_tag' && t.type === id && t.componentIdx === componentIdx) tags.push(t.name);
    }
    return tags;
  }

  /** A C-like spelling of a type, for error messages and listings; past MAX_CHAIN_DEPTH links, '...'. */
  describe(id: number): string {
    return this.spell(id, 0);
  }

  private spell(id: number, depth: number): string {
    if (depth > MAX_CHAIN_DEPTH) return '...';
    const t = this.type(id);
    switch (t.kind) {
      case 'void': return 'void';
      case 'int': case 'float': case 'typedef': return t.name;
      case 'struct': case 'union': case 'enum': return `${t.kind} ${t.name || '(anon)'}`;
      case 'fwd': return `${t.union ? 'union' : 'struct'} ${t.name}`;
      case 'ptr': return `${this.spell(t.type, depth + 1)} *`;
      case 'array': return `${this.spell(t.type, depth + 1)}[${t.length}]`;
      case 'const': case 'volatile': case 'restrict': return `${t.kind} ${this.spell(t.type, depth + 1)}`;
      default: return `${t.kind} ${t.name}`;
    }
  }
}
