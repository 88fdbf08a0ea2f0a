/**
 * Response shapes of the kernel catalog (/v1/kernels/:id/structs|funcs|types) as JSON schemas
 * (catalog.ts derives the types): what a kernel's BTF says about its structs, functions and types,
 * as C would spell them.
 */
import { Type } from '@sinclair/typebox';
import { StringEnum } from './schema-kit.ts';

/**
 * One member of a struct or union. Nested structs and unions are flattened after the member that
 * holds them: depth counts the nesting, path joins the names (`se.run_node.rb_left`); members of
 * anonymous structs and unions keep their parent's path prefix.
 */
export const StructMemberSchema = Type.Object({
  /** '' for an anonymous struct or union member. */
  name: Type.String(),
  path: Type.String(),
  depth: Type.Integer(),
  /** The C spelling of the member's type: `char[16]`, `struct list_head`, `void (*)(struct rcu_head *)`. */
  type: Type.String(),
  /** The member as C declares it: `char comm[16]`, `unsigned int flags:1`. */
  decl: Type.String(),
  /** BTF kind of the type after typedefs and qualifiers ('struct', 'ptr', 'int', ...). */
  kind: Type.String(),
  /** Byte offset from the start of the outermost struct (rounded down for bitfields). */
  offset: Type.Integer(),
  /** Offset in bits from the start of the outermost struct. */
  bitOffset: Type.Integer(),
  /** Bitfield width; 0 for a whole member. */
  bitSize: Type.Integer(),
  /** sizeof the member's type in bytes (the storage unit for a bitfield). */
  size: Type.Integer(),
  /** Unused bytes between this member's end and the next member of the same struct (pahole's "XXX n bytes hole"). */
  holeAfter: Type.Integer(),
  /** Unused bits after a bitfield, before the next member. */
  bitHoleAfter: Type.Integer(),
});

export const StructLayoutSchema = Type.Object({
  kernel: Type.String(),
  kind: StringEnum(['struct', 'union']),
  name: Type.String(),
  size: Type.Integer(),
  /** Direct members (not counting flattened nested ones). */
  memberCount: Type.Integer(),
  holes: Type.Integer(),
  holeBytes: Type.Integer(),
  /** Trailing padding in bytes. */
  padding: Type.Integer(),
  cachelines: Type.Integer(),
  /** Set when nested members were left out: the flattened list would have exceeded the service's bound (hostile BTF). */
  truncated: Type.Optional(Type.Boolean()),
  members: Type.Array(StructMemberSchema),
});

export const FuncParamSchema = Type.Object({ name: Type.String(), type: Type.String() });

export const FuncPrototypeSchema = Type.Object({
  kernel: Type.String(),
  name: Type.String(),
  /** 'static', 'global' or 'extern' (BTF func linkage). */
  linkage: Type.String(),
  returns: Type.String(),
  variadic: Type.Boolean(),
  /** The whole prototype as C prints it: `int do_filp_open(int dfd, struct filename *pathname, ...)`. */
  proto: Type.String(),
  params: Type.Array(FuncParamSchema),
});

export const FuncSearchResultSchema = Type.Object({
  kernel: Type.String(),
  /** True when more functions matched than `limit`. */
  truncated: Type.Boolean(),
  funcs: Type.Array(FuncPrototypeSchema),
});

export const TypeInfoSchema = Type.Object({
  kind: StringEnum(['struct', 'union', 'enum', 'typedef', 'int', 'float', 'fwd']),
  name: Type.String(),
  /** C spelling: `struct sock`, `enum pid_type`, `u32`. */
  c: Type.String(),
  size: Type.Unsafe<number | null>({ type: ['integer', 'null'] }),
  /** Structs and unions: direct member count (the layout is at /structs/:name). */
  memberCount: Type.Optional(Type.Integer()),
  /** Typedefs: the chain down to the type that has a layout (`pid_t` → `__kernel_pid_t` → `int`). */
  resolvesTo: Type.Optional(Type.Array(Type.String())),
  /** Enums: the enumerators in declaration order (values as decimal strings: enum64 exceeds 2^53). */
  values: Type.Optional(Type.Array(Type.Object({ name: Type.String(), value: Type.String() }))),
});

export const TypeLookupSchema = Type.Object({ kernel: Type.String(), name: Type.String(), types: Type.Array(TypeInfoSchema) });
