/**
 * One NAME=EXPR → one ftrace fetch arg with its type ("comm=+0xae0(%di):string"), with member
 * offsets and sizes from BTF: the kernel's for p/r, the binary's own (from its DWARF) for P/R.
 */
import type { Arch } from '@lbc/contract';
import type { Btf } from '@lbc/btf';
import type { Access, ArgSpec, Base, ProbeKind, Span } from './ast.ts';
import { advance, deref, fetchOf, type Location } from './fetch-location.ts';
import { registersOf } from './registers.ts';
import { resolveSkbAccess } from './skb-access.ts';
import { didYouMean, traceError } from './trace-error.ts';
import { describeRef, findMember, lookupType, memberNames, shapeOf, sizeOfRef, typeNames, type TypeRef } from './type-view.ts';
import { conversionOf, type Conversion } from './value-conversions.ts';

export interface FunctionProto {
  params: { name: string; type: number }[];
  ret: number;
}

export interface ResolveContext {
  line: string;
  kind: ProbeKind;
  arch: Arch;
  /** Types for this probe's side (kernel or binary); undefined when there are none (stripped library). */
  btf?: Btf;
  /** The kernel's BTF, for skb casts. */
  kernelBtf?: Btf;
  proto?: FunctionProto;
  funcName: string;
  /** False inside a function (p sym+OFF): argument registers may have been reused. */
  atEntry: boolean;
  /** Kernel symbols for @symbol; undefined when they cannot be checked (another kernel). */
  kernelSymbols?: Set<string>;
}

export interface ResolvedArg {
  name: string;
  fetch: string;
  /** ftrace type (u32, x64, s16, string, b3@5/32); empty for $comm, which ftrace types itself. */
  type: string;
  conversion?: Conversion;
}

interface State {
  loc: Location;
  type: TypeRef | null;
  /** Set when the value is a bitfield member; offsets are from `loc`. */
  bitfield?: { bitOffset: number; bitSize: number };
}

export function resolveArg(ctx: ResolveContext, arg: ArgSpec): ResolvedArg {
  const fail: Fail = (code, what, span) => {
    throw traceError(code, what, ctx.line, span);
  };
  const { expr } = arg;
  if (expr.base.kind === 'comm') {
    if (expr.cast || expr.chain.length) fail('LBC_ERR_TRACE_TYPE', '$comm is the task name: it takes no cast or member', expr.span);
    return { name: arg.name, fetch: '$comm', type: '' };
  }
  let state = baseState(ctx, expr.base, fail);
  let chain = expr.chain;
  if (expr.cast?.kind === 'cast') {
    const btf = typesOrFail(ctx, expr.cast.span, fail);
    const ref =
      lookupType(btf, expr.cast.type) ??
      fail('LBC_ERR_TRACE_UNKNOWN', `unknown type '${expr.cast.type}'${didYouMean(expr.cast.type.replace(/\s*\*+$/, ''), typeNames(btf, expr.cast.type))}`, expr.cast.span);
    state = { ...state, type: ref };
  } else if (expr.cast?.kind === 'skb') {
    const kernelBtf = ctx.kernelBtf;
    if (!kernelBtf || ctx.kind === 'P' || ctx.kind === 'R') return fail('LBC_ERR_TRACE_TYPE', 'skb parsing (@(struct ...)) reads kernel sk_buffs: use it in p/r probes', expr.cast.span);
    const skb = resolveSkbAccess(kernelBtf, state.loc, expr.cast, chain, ctx.line);
    if (skb.string) {
      if (skb.rest.length) fail('LBC_ERR_TRACE_TYPE', 'Sdata[i] is a string: it has no members', skb.rest[0]!.span);
      return { name: arg.name, fetch: fetchOf(skb.loc), type: 'string' };
    }
    state = { loc: skb.loc, type: skb.type };
    chain = skb.rest;
  }
  for (const access of chain) state = step(ctx, state, access, fail);
  return finish(ctx, arg, state, fail);
}

type Fail = (code: 'LBC_ERR_TRACE_SYNTAX' | 'LBC_ERR_TRACE_UNKNOWN' | 'LBC_ERR_TRACE_TYPE' | 'LBC_ERR_TRACE_UNSUPPORTED', what: string, span: Span) => never;

function typesOrFail(ctx: ResolveContext, span: Span, fail: Fail): Btf {
  if (ctx.btf) return ctx.btf;
  return fail('LBC_ERR_TRACE_UNKNOWN', `no type information for ${ctx.funcName}: build the binary with -g (and install pahole) to use types`, span);
}

function baseState(ctx: ResolveContext, base: Base, fail: Fail): State {
  const regs = registersOf(ctx.arch);
  const paramType = (i: number): TypeRef | null => {
    const p = ctx.atEntry ? ctx.proto?.params[i] : undefined;
    return p ? { id: p.type, ptr: 0 } : null;
  };
  switch (base.kind) {
    case 'arg': {
      if (ctx.kind === 'r' || ctx.kind === 'R') fail('LBC_ERR_TRACE_SYNTAX', `arguments are gone when a function returns: '${ctx.kind}' probes read $retval`, base.span);
      if (ctx.proto && ctx.atEntry && base.index >= ctx.proto.params.length) {
        const n = ctx.proto.params.length;
        fail('LBC_ERR_TRACE_UNKNOWN', `${ctx.funcName} has ${n} parameter${n === 1 ? '' : 's'}${n ? ` (%0..%${n - 1})` : ''}`, base.span);
      }
      const reg = regs.args[base.index];
      if (!reg) fail('LBC_ERR_TRACE_UNSUPPORTED', `argument %${base.index} is passed on the stack on ${ctx.arch}; read it with +OFF($stack) via a cast`, base.span);
      return { loc: { kind: 'value', text: `%${reg}` }, type: paramType(base.index) };
    }
    case 'reg': {
      if (!regs.all.has(base.name)) fail('LBC_ERR_TRACE_UNKNOWN', `unknown ${ctx.arch} register '%${base.name}'${didYouMean(base.name, regs.all)}`, base.span);
      const i = regs.args.indexOf(base.name);
      return { loc: { kind: 'value', text: `%${base.name}` }, type: i >= 0 ? paramType(i) : null };
    }
    case 'retval':
      if (ctx.kind !== 'r' && ctx.kind !== 'R') fail('LBC_ERR_TRACE_SYNTAX', `$retval exists in return probes only (r, R), not in '${ctx.kind}'`, base.span);
      return { loc: { kind: 'value', text: '$retval' }, type: ctx.proto && !isVoid(ctx, ctx.proto.ret) ? { id: ctx.proto.ret, ptr: 0 } : null };
    case 'stack':
      return { loc: { kind: 'value', text: base.slot === undefined ? '$stack' : `$stack${base.slot}` }, type: null };
    case 'symbol': {
      if (ctx.kind === 'P' || ctx.kind === 'R') fail('LBC_ERR_TRACE_UNSUPPORTED', '@symbol reads kernel variables: use it in p/r probes', base.span);
      if (ctx.kernelSymbols && !ctx.kernelSymbols.has(base.name)) {
        fail('LBC_ERR_TRACE_UNKNOWN', `unknown kernel symbol '${base.name}'${didYouMean(base.name, ctx.kernelSymbols)}`, base.span);
      }
      const v = ctx.btf?.findByName(base.name, 'var')[0];
      return { loc: { kind: 'symbol', name: base.name, offset: 0 }, type: v ? { id: v.type, ptr: 0 } : null };
    }
    case 'address':
      return { loc: { kind: 'address', value: base.value }, type: null };
    case 'comm':
      throw new Error('unreachable: $comm is handled before');
  }
}

function isVoid(ctx: ResolveContext, id: number): boolean {
  return id === 0 || ctx.btf?.resolve(id).kind === 'void';
}

function step(ctx: ResolveContext, state: State, access: Access, fail: Fail): State {
  if (!state.type) {
    const why = ctx.proto ? 'registers, addresses and $stack carry no type' : `no prototype of ${ctx.funcName} in the debug info`;
    fail('LBC_ERR_TRACE_TYPE', `the type here is unknown (${why}): cast the base first, e.g. !(struct file *)%ax`, access.span);
  }
  const btf = ctx.btf!;
  const shape = shapeOf(btf, state.type);
  const typeName = describeRef(btf, state.type);
  if (access.op === '[]') {
    if (shape.kind === 'array') {
      if (shape.length > 0 && access.index >= shape.length) fail('LBC_ERR_TRACE_TYPE', `index ${access.index} is past the end of ${typeName}`, access.span);
      const loc = advance(state.loc, access.index * sizeOfRef(btf, shape.elem));
      if (!loc) fail('LBC_ERR_TRACE_TYPE', `${typeName} is not in memory here`, access.span);
      return { loc, type: shape.elem };
    }
    if (shape.kind === 'ptr' && shape.to) return { loc: deref(state.loc, access.index * sizeOfRef(btf, shape.to)), type: shape.to };
    return fail('LBC_ERR_TRACE_TYPE', `[${access.index}] needs an array or a typed pointer, not ${typeName}`, access.span);
  }
  let holder: { loc: Location; structType: TypeRef };
  if (access.op === '->') {
    if (shape.kind !== 'ptr') {
      fail('LBC_ERR_TRACE_TYPE', `${typeName} is not a pointer: use '.${access.member}'`, { start: access.span.start - 2, end: access.span.end });
    }
    if (!shape.to) fail('LBC_ERR_TRACE_TYPE', `${typeName} points at nothing typed: cast it, e.g. !(struct sk_buff *)`, access.span);
    holder = { loc: deref(state.loc, 0), structType: shape.to };
  } else {
    if (shape.kind === 'ptr') fail('LBC_ERR_TRACE_TYPE', `${typeName} is a pointer: use '->${access.member}'`, { start: access.span.start - 1, end: access.span.end });
    holder = { loc: state.loc, structType: state.type };
  }
  const target = shapeOf(btf, holder.structType);
  if (target.kind !== 'struct' && target.kind !== 'union') {
    fail('LBC_ERR_TRACE_TYPE', `${describeRef(btf, holder.structType)} has no members (it is not a struct or union)`, access.span);
  }
  const member = findMember(btf, target.id, access.member);
  if (!member) {
    fail('LBC_ERR_TRACE_UNKNOWN', `unknown member '${access.member}' of ${target.kind} ${target.name || '(anon)'}${didYouMean(access.member, memberNames(btf, target.id))}`, access.span);
  }
  const byte = Math.floor(member.bitOffset / 8);
  const loc = member.bitSize ? holder.loc : advance(holder.loc, byte);
  if (!loc) fail('LBC_ERR_TRACE_TYPE', `'${access.member}' is inside a struct held in a register: there is no memory to read it from`, access.span);
  const next: State = { loc, type: { id: member.type, ptr: 0 } };
  if (member.bitSize) next.bitfield = { bitOffset: member.bitOffset, bitSize: member.bitSize };
  return next;
}

function finish(ctx: ResolveContext, arg: ArgSpec, state: State, fail: Fail): ResolvedArg {
  const { expr } = arg;
  const conversion = conversionOf(arg.name);
  const fmt = arg.format ?? 'u';
  const out = (fetch: string, type: string): ResolvedArg => ({ name: arg.name, fetch, type, ...(conversion ? { conversion } : {}) });
  if (!state.type) {
    const size = conversion?.bits ?? 64;
    return out(fetchOf(state.loc), `${conversion ? 'u' : fmt}${size}`);
  }
  const btf = ctx.btf ?? ctx.kernelBtf!;
  if (state.bitfield) {
    const { bitOffset, bitSize } = state.bitfield;
    const container = containerFor(bitOffset, bitSize);
    const loc = advance(state.loc, container.byte);
    if (!loc) fail('LBC_ERR_TRACE_TYPE', 'a bitfield must be read from memory', expr.span);
    return out(fetchOf(loc), `b${bitSize}@${bitOffset - container.byte * 8}/${container.bits}`);
  }
  // atomic_t, refcount_t, kuid_t...: a struct around one number reads as that number.
  let shape = shapeOf(btf, state.type);
  const what = describeRef(btf, state.type);
  for (let depth = 0; (shape.kind === 'struct' || shape.kind === 'union') && depth < 4; depth++) {
    const t = btf.resolve(shape.id);
    const only = (t.kind === 'struct' || t.kind === 'union') && t.members.length === 1 ? t.members[0]! : undefined;
    if (!only || only.bitSize || only.bitOffset) break;
    shape = shapeOf(btf, { id: only.type, ptr: 0 });
  }
  const isChar = (ref: TypeRef | null): boolean => {
    const s = ref && shapeOf(btf, ref);
    return s?.kind === 'int' && s.char;
  };
  if (shape.kind === 'array' && isChar(shape.elem) && !conversion) {
    if (state.loc.kind === 'value') fail('LBC_ERR_TRACE_TYPE', `${what} is not in memory here`, expr.span);
    return out(fetchOf(state.loc), 'string');
  }
  if (shape.kind === 'ptr' && isChar(shape.to) && !conversion && arg.format === undefined) {
    return out(fetchOf(deref(state.loc, 0)), 'string');
  }
  let size: number;
  if (shape.kind === 'ptr') size = 8;
  else if (shape.kind === 'int' || shape.kind === 'enum') size = shape.size;
  else return fail('LBC_ERR_TRACE_TYPE', `${what} cannot be printed as one value: pick a member with -> or .`, expr.span);
  if (![1, 2, 4, 8].includes(size)) fail('LBC_ERR_TRACE_TYPE', `${what} is ${size} bytes: ftrace prints 1, 2, 4 or 8`, expr.span);
  if (conversion && conversion.bits !== size * 8) {
    fail('LBC_ERR_TRACE_TYPE', `'${arg.name}' asks for ${conversion.bits}-bit ${conversion.kind === 'ip' ? 'IPv4 addresses' : 'byte swapping'}, but ${what} is ${size * 8}-bit`, arg.nameSpan);
  }
  return out(fetchOf(state.loc), `${conversion ? 'u' : fmt}${size * 8}`);
}

/** The naturally aligned 1/2/4/8-byte unit holding a bitfield, as ftrace's b<width>@<offset>/<size> wants it. */
function containerFor(bitOffset: number, bitSize: number): { byte: number; bits: number } {
  for (const bits of [8, 16, 32, 64]) {
    const start = Math.floor(bitOffset / bits) * bits;
    if (bitOffset + bitSize <= start + bits) return { byte: start / 8, bits };
  }
  return { byte: Math.floor(bitOffset / 64) * 8, bits: 64 };
}
