/**
 * A BTF type as the resolver needs it: what a value is (pointer, struct, array, number), with
 * casts able to add pointer levels the BTF itself may not contain (`!(struct file **)`).
 */
import type { Btf, BtfMember } from '@lbc/btf';

/** A BTF type id with `ptr` extra levels of pointer on top; null when no type is known. */
export interface TypeRef {
  id: number;
  ptr: number;
}

export type TypeShape =
  | { kind: 'ptr'; to: TypeRef | null }
  | { kind: 'struct' | 'union'; id: number; name: string; size: number }
  | { kind: 'array'; elem: TypeRef; length: number }
  | { kind: 'int'; size: number; signed: boolean; char: boolean }
  | { kind: 'enum'; size: number; signed: boolean }
  | { kind: 'other'; what: string };

export function shapeOf(btf: Btf, ref: TypeRef): TypeShape {
  if (ref.ptr > 0) return { kind: 'ptr', to: { id: ref.id, ptr: ref.ptr - 1 } };
  const t = btf.resolve(ref.id);
  switch (t.kind) {
    case 'ptr': {
      const to = btf.resolve(t.type);
      return { kind: 'ptr', to: to.kind === 'void' ? null : { id: t.type, ptr: 0 } };
    }
    case 'struct': case 'union':
      return { kind: t.kind, id: t.id, name: t.name, size: t.size };
    case 'array':
      return { kind: 'array', elem: { id: t.type, ptr: 0 }, length: t.length };
    case 'int':
      return { kind: 'int', size: t.size, signed: t.signed, char: t.char || (t.size === 1 && /char/.test(t.name)) };
    case 'enum':
      return { kind: 'enum', size: t.size, signed: t.signed };
    case 'fwd':
      return { kind: 'other', what: `${t.union ? 'union' : 'struct'} ${t.name} (declared, never defined)` };
    default:
      return { kind: 'other', what: t.kind };
  }
}

export function describeRef(btf: Btf, ref: TypeRef | null): string {
  if (!ref) return 'an untyped 64-bit value';
  return `${btf.describe(ref.id)}${ref.ptr ? ` ${'*'.repeat(ref.ptr)}` : ''}`.replace('* *', '**');
}

export function sizeOfRef(btf: Btf, ref: TypeRef): number {
  return ref.ptr > 0 ? 8 : btf.sizeof(ref.id);
}

export interface FoundMember extends BtfMember {
  /** Offset from the start of the outer struct, in bits (anonymous members flattened). */
  bitOffset: number;
}

/** A named member, looking through anonymous struct/union members as C does. */
export function findMember(btf: Btf, structId: number, name: string): FoundMember | undefined {
  const t = btf.resolve(structId);
  if (t.kind !== 'struct' && t.kind !== 'union') return undefined;
  for (const m of t.members) {
    if (m.name === name) return m;
    if (!m.name) {
      const inner = findMember(btf, m.type, name);
      if (inner) return { ...inner, bitOffset: inner.bitOffset + m.bitOffset };
    }
  }
  return undefined;
}

export function memberNames(btf: Btf, structId: number): string[] {
  const t = btf.resolve(structId);
  if (t.kind !== 'struct' && t.kind !== 'union') return [];
  return t.members.flatMap((m) => (m.name ? [m.name] : memberNames(btf, m.type)));
}

/**
 * A C type spelling from a cast ("struct file *", "u64", "unsigned long") → TypeRef.
 * Pointer levels beyond what the BTF holds are kept in `ptr`.
 */
export function lookupType(btf: Btf, spelling: string): TypeRef | undefined {
  const stars = (spelling.match(/\*/g) ?? []).length;
  const base = spelling.replace(/\*/g, '').trim().replace(/\s+/g, ' ');
  const id = btf.lookupCType(base) ?? aliasOf(btf, base);
  return id === undefined ? undefined : { id, ptr: stars };
}

/** GCC's DWARF names ("long int", "long unsigned int") versus what people type ("long", "unsigned long"). */
const ALIASES: Record<string, string[]> = {
  long: ['long int'], 'unsigned long': ['long unsigned int'], 'long long': ['long long int'],
  'unsigned long long': ['long long unsigned int'], short: ['short int'], 'unsigned short': ['short unsigned int'],
  unsigned: ['unsigned int'], u8: ['unsigned char'], u16: ['short unsigned int'], u32: ['unsigned int'],
  u64: ['long long unsigned int', 'long unsigned int'], s8: ['signed char'], s16: ['short int'], s32: ['int'], s64: ['long long int', 'long int'],
};

function aliasOf(btf: Btf, name: string): number | undefined {
  for (const alt of ALIASES[name] ?? []) {
    const id = btf.lookupCType(alt);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** Names of structs (or typedefs) to suggest for a misspelt cast. */
export function typeNames(btf: Btf, spelling: string): string[] {
  const m = /^(struct|union|enum) /.exec(spelling);
  if (m) return btf.types.filter((t) => t.kind === m[1] && t.name).map((t) => `${m[1]} ${t.name}`);
  return btf.types.filter((t) => (t.kind === 'typedef' || t.kind === 'int') && t.name).map((t) => t.name);
}
