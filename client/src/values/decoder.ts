/**
 * BTF type → a decoder compiled to straight-line JavaScript, so a 64-byte event becomes one
 * object literal of byte reads (events arrive at up to millions per second). bench/decode.ts
 * measures it against a hand-written reader of the same struct.
 */
import type { Btf, BtfType } from '@lbc/btf';
import { bitSpan, readBits } from './bitfield.ts';
import { decodeCString } from './c-string.ts';
import { scalarSource, type ScalarSource } from './scalar-source.ts';
import { ValueWalkBudget, flatMembers, isStringArray } from './type-shape.ts';

export type Decoder = (buf: Buffer, offset?: number) => unknown;

/**
 * Arrays up to this many elements decode as one array literal of element reads; longer ones in a
 * loop. A literal builds its array ~2x faster than a loop filling `new Array(n)` (measured on
 * node 20: u8[40] ~45 vs ~90 ns, u8[256] ~320 vs ~700 ns); the limit keeps a decoder's code small
 * enough for V8 to optimise. Struct or array elements are more code each, so fewer are written out.
 */
const UNROLL_SCALARS = 256;
const UNROLL_COMPOUND = 8;
/**
 * Bytes of scalar arrays one decoder writes out in all. Past some size V8 gives up optimising a
 * function and it runs ~20x slower: 20 × u8[256] as literals took ~160 µs a decode vs ~13 µs in
 * loops, while up to 2048 literal elements still ran optimised.
 */
const UNROLL_BUDGET_BYTES = 1024;

const helpers = {
  cstr: decodeCString,
  enumName(names: Map<number | bigint, string>, v: number | bigint): string | number | bigint {
    return names.get(v) ?? v;
  },
  bits(b: Buffer, o: number, span: ReturnType<typeof bitSpan>, signed: boolean, le: boolean, asBigint: boolean): number | bigint {
    const v = readBits(b, o, span, signed, le);
    return asBigint ? v : Number(v);
  },
  int128(b: Buffer, o: number, signed: boolean, le: boolean): bigint {
    const lo = le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o + 8);
    const hi = le ? b.readBigUInt64LE(o + 8) : b.readBigUInt64BE(o);
    const v = (hi << 64n) | lo;
    return signed ? BigInt.asIntN(128, v) : v;
  },
  raw(b: Buffer, o: number, n: number): Buffer {
    return Buffer.from(b.subarray(o, o + n));
  },
  outside(b: Buffer, o: unknown, size: number, cType: string): never {
    throw new RangeError(`cannot decode ${cType} (${size} bytes) at offset ${String(o)} of a ${b.length}-byte buffer`);
  },
};

export function compileDecoder(btf: Btf, typeId: number, littleEndian: boolean): Decoder {
  const g = new DecoderGen(btf, littleEndian);
  const body = g.expr(typeId, 0);
  const size = btf.sizeof(typeId);
  const check = `if (!(o >= 0 && o + ${size} <= b.length)) h.outside(b, o, ${size}, ${g.konst(btf.describe(typeId))});`;
  // One DataView per ArrayBuffer while records come from the same storage (a batch decodes from
  // one arena or ring), made anew for another. It is let go once the current task is done, so
  // the decoder never keeps a closed ring's mapping or a freed arena alive.
  const view = g.viewReads > 0 ? 'const d = b.buffer === lastBuffer ? lastView : viewOf(b.buffer), p = b.byteOffset + o; ' : '';
  const src = [
    'let lastBuffer = null, lastView = null;',
    'function forget() { lastBuffer = null; lastView = null; }',
    'function viewOf(buffer) { if (lastBuffer === null) queueMicrotask(forget); lastView = new DataView(buffer); lastBuffer = buffer; return lastView; }',
    ...g.fns,
    `return function decode(b, o = 0) { ${check} ${view}return ${body}; };`,
  ].join('\n');
  return new Function('h', 'k', src)(helpers, g.consts) as Decoder;
}

class DecoderGen {
  readonly consts: unknown[] = [];
  readonly fns: string[] = [];
  /** Reads through the DataView `d` generated so far: the decoder sets `d` and `p` up only if any. */
  viewReads = 0;
  private readonly read: ScalarSource;
  private unrolledBytes = 0;
  private readonly budget: ValueWalkBudget;

  constructor(private readonly btf: Btf, private readonly le: boolean) {
    this.read = scalarSource(le);
    this.budget = new ValueWalkBudget(btf, 'decode');
  }

  konst(v: unknown): string {
    this.consts.push(v);
    return `k[${this.consts.length - 1}]`;
  }

  /** JS expression decoding type `id` at byte `o + off`. */
  expr(id: number, off: number): string {
    return this.budget.visit(id, () => this.exprOf(id, off));
  }

  private exprOf(id: number, off: number): string {
    const t = this.btf.resolve(id);
    const at = off === 0 ? 'o' : `o + ${off}`;
    switch (t.kind) {
      case 'int':
        if (t.bitOffset !== 0 || (t.bits !== t.size * 8 && !t.bool)) return this.bitfield(id, off * 8 + t.bitOffset, t.bits);
        return this.int(t.size, t.signed, t.bool, off);
      case 'enum':
        return `h.enumName(${this.konst(enumNames(t))}, ${this.int(t.size, t.signed, false, off)})`;
      case 'ptr':
        return this.viaView('uint64', off);
      case 'float':
        if (t.size === 4) return this.viaView('float32', off);
        if (t.size === 8) return this.viaView('float64', off);
        return `h.raw(b, ${at}, ${t.size})`;
      case 'array':
        return this.array(t, off, at);
      case 'struct':
      case 'union': {
        const fields = flatMembers(this.btf, t.members).map((m) => {
          const value = m.bitSize > 0 ? this.bitfield(m.type, off * 8 + m.bitOffset, m.bitSize) : this.expr(m.type, off + m.bitOffset / 8);
          return `${JSON.stringify(m.name)}: ${value}`;
        });
        return `{ ${fields.join(', ')} }`;
      }
      default:
        throw new TypeError(`cannot decode ${this.btf.describe(id)}: ${t.kind} has no value layout`);
    }
  }

  private viaView(kind: Parameters<ScalarSource['viaView']>[0], off: number): string {
    this.viewReads++;
    return this.read.viaView(kind, off);
  }

  private int(size: number, signed: boolean, bool: boolean, off: number): string {
    let e: string;
    switch (size) {
      case 1: case 2: case 4: e = this.read.int(size, signed, off); break;
      case 8: e = this.viaView(signed ? 'int64' : 'uint64', off); break;
      case 16: e = `h.int128(b, ${off === 0 ? 'o' : `o + ${off}`}, ${signed}, ${this.le})`; break;
      default: throw new TypeError(`cannot decode a ${size}-byte integer`);
    }
    if (!bool) return e;
    return size >= 8 ? `(${e} !== 0n)` : `(${e} !== 0)`;
  }

  private bitfield(id: number, bitOffset: number, bits: number): string {
    const t = this.btf.resolve(id);
    const size = t.kind === 'int' || t.kind === 'enum' ? t.size : 4;
    const signed = (t.kind === 'int' || t.kind === 'enum') && t.signed;
    const span = bitSpan(bitOffset, bits, this.le);
    const read = (size < 8 && this.read.bits(span, signed)) || `h.bits(b, o, ${this.konst(span)}, ${signed}, ${this.le}, ${size >= 8})`;
    if (t.kind === 'enum') return `h.enumName(${this.konst(enumNames(t))}, ${read})`;
    if (t.kind === 'int' && t.bool) return `(${read} != 0)`;
    return read;
  }

  private array(t: Extract<BtfType, { kind: 'array' }>, off: number, at: string): string {
    if (isStringArray(this.btf, t.type)) return `h.cstr(b, ${at}, ${t.length})`;
    const stride = this.btf.sizeof(t.type);
    const kind = this.btf.resolve(t.type).kind;
    const compound = kind === 'struct' || kind === 'union' || kind === 'array';
    const literal = compound ? t.length <= UNROLL_COMPOUND : t.length <= UNROLL_SCALARS && this.unrolledBytes + t.length * stride <= UNROLL_BUDGET_BYTES;
    if (literal) {
      if (!compound) this.unrolledBytes += t.length * stride;
      const items = [];
      for (let i = 0; i < t.length; i++) items.push(this.expr(t.type, off + i * stride));
      return `[${items.join(', ')}]`;
    }
    // The element's reads are written into the loop: no call per element.
    const slot = this.fns.push('') - 1;
    const name = `f${slot}`;
    const viewReadsBefore = this.viewReads;
    const element = this.expr(t.type, 0);
    const viaView = this.viewReads > viewReadsBefore;
    const params = viaView ? 'b, o, d, p' : 'b, o';
    const step = viaView ? `o += ${stride}, p += ${stride}` : `o += ${stride}`;
    this.fns[slot] = `function ${name}(${params}) { const a = new Array(${t.length}); for (let i = 0; i < ${t.length}; i++, ${step}) a[i] = ${element}; return a; }`;
    return viaView ? `${name}(b, ${at}, d, ${off === 0 ? 'p' : `p + ${off}`})` : `${name}(b, ${at})`;
  }
}

function enumNames(t: Extract<BtfType, { kind: 'enum' }>): Map<number | bigint, string> {
  const names = new Map<number | bigint, string>();
  for (const v of t.values) {
    const key = t.size >= 8 ? v.value : Number(t.signed ? BigInt.asIntN(t.size * 8, v.value) : BigInt.asUintN(t.size * 8, v.value));
    if (!names.has(key)) names.set(key, v.name);
  }
  return names;
}
