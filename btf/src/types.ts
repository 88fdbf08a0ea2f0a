/** The BTF type model: one discriminated union member per BTF kind (linux/btf.h). */

export const BTF_KIND = {
  UNKN: 0, INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9,
  CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17,
  TYPE_TAG: 18, ENUM64: 19,
} as const;

export interface BtfMember {
  name: string;
  type: number;
  /** Offset from the start of the struct, in bits. */
  bitOffset: number;
  /** Bitfield width in bits; 0 for a regular member. */
  bitSize: number;
}

export interface BtfEnumValue {
  name: string;
  value: bigint;
}

interface Base {
  id: number;
  name: string;
}
type Composite<K extends 'struct' | 'union'> = Base & { kind: K; size: number; members: BtfMember[] };
type Ref<K extends 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'> = Base & { kind: K; type: number };

export type BtfType =
  | (Base & { kind: 'void' })
  | (Base & { kind: 'int'; size: number; bits: number; bitOffset: number; signed: boolean; char: boolean; bool: boolean })
  | (Base & { kind: 'ptr'; type: number })
  | (Base & { kind: 'array'; type: number; indexType: number; length: number })
  | Composite<'struct'>
  | Composite<'union'>
  | (Base & { kind: 'enum'; size: number; signed: boolean; values: BtfEnumValue[] })
  | (Base & { kind: 'fwd'; union: boolean })
  | Ref<'typedef'>
  | Ref<'volatile'>
  | Ref<'const'>
  | Ref<'restrict'>
  | Ref<'type_tag'>
  | (Base & { kind: 'func'; type: number; linkage: number })
  | (Base & { kind: 'func_proto'; type: number; params: { name: string; type: number }[] })
  | (Base & { kind: 'var'; type: number; linkage: number })
  | (Base & { kind: 'datasec'; size: number; vars: { type: number; offset: number; size: number }[] })
  | (Base & { kind: 'float'; size: number })
  | (Base & { kind: 'decl_tag'; type: number; componentIdx: number });

export type BtfKindName = BtfType['kind'];
export type BtfTypeOf<K extends BtfKindName> = Extract<BtfType, { kind: K }>;
