/**
 * BTF type → an encoder that checks every value against the C type before it becomes bytes.
 * A mismatch throws a TypeError naming the path (`key.pid: expected integer, got string`); the
 * caller's buffer is fresh, so nothing reaches the map.
 */
import type { Btf, BtfType } from '@lbc/btf';
import { bitSpan, writeBits } from './bitfield.ts';
import { ValueWalkBudget, flatMembers, isStringArray } from './type-shape.ts';

export type Encoder = (b: Buffer, o: number, v: unknown, path: string) => void;

export function compileEncoder(btf: Btf, typeId: number, littleEndian: boolean): Encoder {
  return new EncoderGen(btf, littleEndian).enc(typeId);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array of ${v.length}`;
  if (Buffer.isBuffer(v)) return `Buffer of ${v.length}`;
  return typeof v;
}

export function mismatch(path: string, expected: string, v: unknown): TypeError {
  return new TypeError(`${path}: expected ${expected}, got ${describe(v)}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** Checks an integer against the C type's range and returns it as a bigint. */
function toBigInt(v: unknown, path: string, bits: number, signed: boolean, cType: string): bigint {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
  else throw mismatch(path, 'integer', v);
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (n < min || n > max) throw new TypeError(`${path}: ${n} is out of range for ${cType} (${min}..${max})`);
  return n;
}

class EncoderGen {
  private readonly budget: ValueWalkBudget;

  constructor(private readonly btf: Btf, private readonly le: boolean) {
    this.budget = new ValueWalkBudget(btf, 'encode');
  }

  enc(id: number): Encoder {
    return this.budget.visit(id, () => this.encOf(id));
  }

  private encOf(id: number): Encoder {
    const t = this.btf.resolve(id);
    const cType = this.btf.describe(id);
    switch (t.kind) {
      case 'int':
        if (t.bitOffset !== 0 || (t.bits !== t.size * 8 && !t.bool)) return this.bitfield(id, t.bitOffset, t.bits);
        return this.int(t.size, t.signed, t.bool, cType);
      case 'ptr':
        return this.int(8, false, false, cType);
      case 'enum':
        return this.enumEncoder(t, cType, this.int(t.size, t.signed, false, cType));
      case 'float':
        return this.float(t.size, cType);
      case 'array':
        return this.array(t);
      case 'struct':
      case 'union':
        return this.composite(t);
      default:
        return (_b, _o, v, path) => {
          throw new TypeError(`${path}: cannot encode ${cType} (${t.kind} has no value layout)`);
        };
    }
  }

  private int(size: number, signed: boolean, bool: boolean, cType: string): Encoder {
    const le = this.le;
    const bits = size * 8;
    return (b, o, v, path) => {
      if (bool && typeof v === 'boolean') v = v ? 1 : 0;
      const n = toBigInt(v, path, bits, signed && !bool, cType);
      if (bool && n > 1n) throw new TypeError(`${path}: expected boolean, got ${n}`);
      switch (size) {
        case 1: b[o] = Number(BigInt.asUintN(8, n)); break;
        case 2: le ? b.writeUInt16LE(Number(BigInt.asUintN(16, n)), o) : b.writeUInt16BE(Number(BigInt.asUintN(16, n)), o); break;
        case 4: le ? b.writeUInt32LE(Number(BigInt.asUintN(32, n)), o) : b.writeUInt32BE(Number(BigInt.asUintN(32, n)), o); break;
        case 8: le ? b.writeBigUInt64LE(BigInt.asUintN(64, n), o) : b.writeBigUInt64BE(BigInt.asUintN(64, n), o); break;
        case 16: {
          const u = BigInt.asUintN(128, n);
          const lo = BigInt.asUintN(64, u);
          const hi = u >> 64n;
          if (le) { b.writeBigUInt64LE(lo, o); b.writeBigUInt64LE(hi, o + 8); } else { b.writeBigUInt64BE(hi, o); b.writeBigUInt64BE(lo, o + 8); }
          break;
        }
        default: throw new TypeError(`${path}: cannot encode a ${size}-byte integer`);
      }
    };
  }

  private enumEncoder(t: Extract<BtfType, { kind: 'enum' }>, cType: string, asInt: Encoder): Encoder {
    const byName = new Map(t.values.map((v) => [v.name, v.value]));
    return (b, o, v, path) => {
      if (typeof v === 'string') {
        const value = byName.get(v);
        if (value === undefined) throw new TypeError(`${path}: ${JSON.stringify(v)} is not an enumerator of ${cType}`);
        v = t.size >= 8 ? value : t.signed ? BigInt.asIntN(t.size * 8, value) : BigInt.asUintN(t.size * 8, value);
      }
      asInt(b, o, v, path);
    };
  }

  private float(size: number, cType: string): Encoder {
    const le = this.le;
    return (b, o, v, path) => {
      if (typeof v !== 'number') throw mismatch(path, 'number', v);
      if (size === 4) le ? b.writeFloatLE(v, o) : b.writeFloatBE(v, o);
      else if (size === 8) le ? b.writeDoubleLE(v, o) : b.writeDoubleBE(v, o);
      else throw new TypeError(`${path}: cannot encode ${cType}`);
    };
  }

  private bitfield(id: number, bitOffset: number, bits: number): Encoder {
    const t = this.btf.resolve(id);
    const signed = (t.kind === 'int' || t.kind === 'enum') && t.signed;
    const span = bitSpan(bitOffset, bits, this.le);
    const le = this.le;
    const cType = `${this.btf.describe(id)}:${bits}`;
    const byName = t.kind === 'enum' ? new Map(t.values.map((v) => [v.name, v.value])) : undefined;
    const bool = t.kind === 'int' && t.bool;
    return (b, o, v, path) => {
      if (bool && typeof v === 'boolean') v = v ? 1 : 0;
      if (byName && typeof v === 'string') {
        if (!byName.has(v)) throw new TypeError(`${path}: ${JSON.stringify(v)} is not an enumerator of ${cType}`);
        v = byName.get(v);
      }
      writeBits(b, o, span, toBigInt(v, path, bits, signed, cType), le);
    };
  }

  private array(t: Extract<BtfType, { kind: 'array' }>): Encoder {
    const n = t.length;
    if (isStringArray(this.btf, t.type)) {
      return (b, o, v, path) => {
        const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v instanceof Uint8Array ? v : null;
        if (!bytes) throw mismatch(path, `string (char[${n}])`, v);
        if (bytes.length > n) throw new TypeError(`${path}: ${bytes.length} bytes do not fit char[${n}]`);
        b.set(bytes, o);
      };
    }
    const stride = this.btf.sizeof(t.type);
    const element = this.enc(t.type);
    const elementIsByte = stride === 1;
    return (b, o, v, path) => {
      if (elementIsByte && v instanceof Uint8Array) {
        if (v.length !== n) throw mismatch(path, `${n} bytes`, v);
        b.set(v, o);
        return;
      }
      if (!Array.isArray(v)) throw mismatch(path, `array of ${n}`, v);
      if (v.length !== n) throw mismatch(path, `array of ${n}`, v);
      for (let i = 0; i < n; i++) element(b, o + i * stride, v[i], `${path}[${i}]`);
    };
  }

  private composite(t: Extract<BtfType, { kind: 'struct' | 'union' }>): Encoder {
    const members = flatMembers(this.btf, t.members).map((m) => ({
      name: m.name,
      group: m.unionGroup,
      offset: m.bitSize > 0 ? 0 : m.bitOffset / 8,
      enc: m.bitSize > 0 ? this.bitfield(m.type, m.bitOffset, m.bitSize) : this.enc(m.type),
    }));
    const known = new Set(members.map((m) => m.name));
    const groupNames = new Map<number, string[]>();
    for (const m of members) if (m.group !== undefined) groupNames.set(m.group, [...(groupNames.get(m.group) ?? []), m.name]);
    const isUnion = t.kind === 'union';
    const what = `${t.kind} ${t.name || '(anon)'}`;
    return (b, o, v, path) => {
      if (!isPlainObject(v)) throw mismatch(path, `object (${what})`, v);
      for (const key of Object.keys(v)) {
        if (!known.has(key)) throw new TypeError(`${path}: ${what} has no member ${JSON.stringify(key)}`);
      }
      let written = 0;
      const groupsWritten = new Set<number>();
      // A union takes any of its members (a decoded union carries all of them, consistently);
      // so does each anonymous union lifted into a struct.
      for (const m of members) {
        if (!(m.name in v)) {
          if (isUnion || m.group !== undefined) continue;
          throw new TypeError(`${path}.${m.name}: missing (${what} needs every member)`);
        }
        m.enc(b, o + m.offset, v[m.name], `${path}.${m.name}`);
        written++;
        if (m.group !== undefined) groupsWritten.add(m.group);
      }
      if (isUnion && written === 0) throw new TypeError(`${path}: ${what} needs one of ${[...known].join(', ')}`);
      for (const [group, names] of groupNames) {
        if (!groupsWritten.has(group)) throw new TypeError(`${path}: ${what} needs one of ${names.join(', ')}`);
      }
    };
  }
}
