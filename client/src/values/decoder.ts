/**
 * BTF type → a decoder compiled to straight-line JavaScript, so a 64-byte event becomes one
 * object literal of Buffer reads (events arrive at up to millions per second).
 */
import type { Btf, BtfType } from '@lbc/btf';
import { bitSpan, readBits } from './bitfield.ts';
import { decodeCString } from './c-string.ts';
import { flatMembers, isStringArray } from './type-shape.ts';

export type Decoder = (buf: Buffer, offset?: number) => unknown;

/**
 * Arrays up to this many elements decode as one array literal of element reads; longer ones in a
 * loop. A literal builds its array ~2x faster than a loop filling `new Array(n)` (measured on
 * node 20: u8[40] ~45 vs ~90 ns, u8[256] ~320 vs ~700 ns); the limit keeps a decoder's code small
 * enough for V8 to optimise. Struct or array elements are more code each, so fewer are written out.
 */
const UNROLL_SCALARS = 256;
const UNROLL_COMPOUND = 8;

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
};

export function compileDecoder(btf: Btf, typeId: number, littleEndian: boolean): Decoder {
  const g = new DecoderGen(btf, littleEndian);
  const body = g.expr(typeId, 0);
  const src = `${g.fns.join('\n')}\nreturn function decode(b, o = 0) { return ${body}; };`;
  return new Function('h', 'k', src)(helpers, g.consts) as Decoder;
}

class DecoderGen {
  readonly consts: unknown[] = [];
  readonly fns: string[] = [];
  private readonly E: 'LE' | 'BE';

  constructor(private readonly btf: Btf, private readonly le: boolean) {
    this.E = le ? 'LE' : 'BE';
  }

  private konst(v: unknown): string {
    this.consts.push(v);
    return `k[${this.consts.length - 1}]`;
  }

  /** JS expression decoding type `id` at byte `o + off`. */
  expr(id: number, off: number): string {
    const t = this.btf.resolve(id);
    const at = off === 0 ? 'o' : `o + ${off}`;
    switch (t.kind) {
      case 'int':
        if (t.bitOffset !== 0 || (t.bits !== t.size * 8 && !t.bool)) return this.bitfield(id, off * 8 + t.bitOffset, t.bits);
        return this.int(t.size, t.signed, t.bool, at);
      case 'enum':
        return `h.enumName(${this.konst(enumNames(t))}, ${this.int(t.size, t.signed, false, at)})`;
      case 'ptr':
        return `b.readBigUInt64${this.E}(${at})`;
      case 'float':
        if (t.size === 4) return `b.readFloat${this.E}(${at})`;
        if (t.size === 8) return `b.readDouble${this.E}(${at})`;
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

  private int(size: number, signed: boolean, bool: boolean, at: string): string {
    let e: string;
    switch (size) {
      case 1: e = signed ? `(b[${at}] << 24 >> 24)` : `b[${at}]`; break;
      case 2: e = `b.read${signed ? 'Int' : 'UInt'}16${this.E}(${at})`; break;
      case 4: e = `b.read${signed ? 'Int' : 'UInt'}32${this.E}(${at})`; break;
      case 8: e = `b.readBig${signed ? 'Int' : 'UInt'}64${this.E}(${at})`; break;
      case 16: e = `h.int128(b, ${at}, ${signed}, ${this.le})`; break;
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
    const read = `h.bits(b, o, ${this.konst(span)}, ${signed}, ${this.le}, ${size >= 8})`;
    if (t.kind === 'enum') return `h.enumName(${this.konst(enumNames(t))}, ${read})`;
    if (t.kind === 'int' && t.bool) return `(${read} != 0)`;
    return read;
  }

  private array(t: Extract<BtfType, { kind: 'array' }>, off: number, at: string): string {
    if (isStringArray(this.btf, t.type)) return `h.cstr(b, ${at}, ${t.length})`;
    const stride = this.btf.sizeof(t.type);
    const element = this.btf.resolve(t.type);
    const compound = element.kind === 'struct' || element.kind === 'union' || element.kind === 'array';
    if (t.length <= (compound ? UNROLL_COMPOUND : UNROLL_SCALARS)) {
      const items = [];
      for (let i = 0; i < t.length; i++) items.push(this.expr(t.type, off + i * stride));
      return `[${items.join(', ')}]`;
    }
    // The element's reads are written into the loop: no call per element.
    const slot = this.fns.push('') - 1;
    const name = `f${slot}`;
    this.fns[slot] = `function ${name}(b, o) { const a = new Array(${t.length}); for (let i = 0; i < ${t.length}; i++, o += ${stride}) a[i] = ${this.expr(t.type, 0)}; return a; }`;
    return `${name}(b, ${at})`;
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
