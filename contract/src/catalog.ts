/**
 * Response shapes of the kernel catalog (/v1/kernels/:id/structs|funcs|types): what a kernel's
 * BTF says about its structs, functions and types, as C would spell them. They are the types of
 * their JSON schemas in catalog-schemas.ts.
 */
import type { Static } from '@sinclair/typebox';
import type { KernelListSchema, KernelQuerySchema } from './api-schemas.ts';
import type * as S from './catalog-schemas.ts';

/** GET /v1/kernels?distro=&release=&arch= (its JSON schema: api-schemas.ts) */
export type KernelQuery = Static<typeof KernelQuerySchema>;
export type KernelList = Static<typeof KernelListSchema>;

export type StructMember = Static<typeof S.StructMemberSchema>;
export type StructLayout = Static<typeof S.StructLayoutSchema>;
export type FuncParam = Static<typeof S.FuncParamSchema>;
export type FuncPrototype = Static<typeof S.FuncPrototypeSchema>;

export interface FuncSearchQuery {
  /** Name pattern: `%` and `*` match any run of characters, `?` one character; `_` is literal. */
  like?: string;
  /** Return type as C spells it (`int`, `struct sock *`); wildcards allowed. */
  returns?: string;
  /** One parameter's type as C spells it; wildcards allowed. */
  argType?: string;
  limit?: number;
}

export type FuncSearchResult = Static<typeof S.FuncSearchResultSchema>;
export type TypeInfo = Static<typeof S.TypeInfoSchema>;
export type TypeLookup = Static<typeof S.TypeLookupSchema>;
