/**
 * Response shapes of the kernel catalog (/v1/kernels/:id/structs|funcs|types): what a kernel's
 * BTF says about its structs, functions and types, as C would spell them.
 */
import type { Static } from '@sinclair/typebox';
import type { KernelListSchema, KernelQuerySchema } from './api-schemas.ts';

/** GET /v1/kernels?distro=&release=&arch= (its JSON schema: api-schemas.ts) */
export type KernelQuery = Static<typeof KernelQuerySchema>;
export type KernelList = Static<typeof KernelListSchema>;

/**
 * One member of a struct or union. Nested structs and unions are flattened after the member that
 * holds them: depth counts the nesting, path joins the names (`se.run_node.rb_left`); members of
 * anonymous structs and unions keep their parent's path prefix.
 */
export interface StructMember {
  /** '' for an anonymous struct or union member. */
  name: string;
  path: string;
  depth: number;
  /** The C spelling of the member's type: `char[16]`, `struct list_head`, `void (*)(struct rcu_head *)`. */
  type: string;
  /** The member as C declares it: `char comm[16]`, `unsigned int flags:1`. */
  decl: string;
  /** BTF kind of the type after typedefs and qualifiers ('struct', 'ptr', 'int', ...). */
  kind: string;
  /** Byte offset from the start of the outermost struct (rounded down for bitfields). */
  offset: number;
  /** Offset in bits from the start of the outermost struct. */
  bitOffset: number;
  /** Bitfield width; 0 for a whole member. */
  bitSize: number;
  /** sizeof the member's type in bytes (the storage unit for a bitfield). */
  size: number;
  /** Unused bytes between this member's end and the next member of the same struct (pahole's "XXX n bytes hole"). */
  holeAfter: number;
  /** Unused bits after a bitfield, before the next member. */
  bitHoleAfter: number;
}

export interface StructLayout {
  kernel: string;
  kind: 'struct' | 'union';
  name: string;
  size: number;
  /** Direct members (not counting flattened nested ones). */
  memberCount: number;
  holes: number;
  holeBytes: number;
  /** Trailing padding in bytes. */
  padding: number;
  cachelines: number;
  members: StructMember[];
  /** Set when nested members were left out: the flattened list would have exceeded the service's bound (hostile BTF). */
  truncated?: boolean;
}

export interface FuncParam {
  name: string;
  type: string;
}

export interface FuncPrototype {
  kernel: string;
  name: string;
  /** 'static', 'global' or 'extern' (BTF func linkage). */
  linkage: string;
  returns: string;
  params: FuncParam[];
  variadic: boolean;
  /** The whole prototype as C prints it: `int do_filp_open(int dfd, struct filename *pathname, ...)`. */
  proto: string;
}

export interface FuncSearchQuery {
  /** Name pattern: `%` and `*` match any run of characters, `?` one character; `_` is literal. */
  like?: string;
  /** Return type as C spells it (`int`, `struct sock *`); wildcards allowed. */
  returns?: string;
  /** One parameter's type as C spells it; wildcards allowed. */
  argType?: string;
  limit?: number;
}

export interface FuncSearchResult {
  kernel: string;
  funcs: FuncPrototype[];
  /** True when more functions matched than `limit`. */
  truncated: boolean;
}

export interface TypeInfo {
  kind: 'struct' | 'union' | 'enum' | 'typedef' | 'int' | 'float' | 'fwd';
  name: string;
  /** C spelling: `struct sock`, `enum pid_type`, `u32`. */
  c: string;
  size: number | null;
  /** Typedefs: the chain down to the type that has a layout (`pid_t` → `__kernel_pid_t` → `int`). */
  resolvesTo?: string[];
  /** Enums: the enumerators in declaration order (values as decimal strings: enum64 exceeds 2^53). */
  values?: { name: string; value: string }[];
  /** Structs and unions: direct member count (the layout is at /structs/:name). */
  memberCount?: number;
}

export interface TypeLookup {
  kernel: string;
  name: string;
  types: TypeInfo[];
}
