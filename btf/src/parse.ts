/**
 * Parses raw BTF (the .BTF section of an object, or /sys/kernel/btf/vmlinux) into a type table.
 * Every offset and type reference is bounds-checked, and what the table costs is bounded by the
 * input's size (names are references into one decoded string section, see strings.ts): the
 * service parses uploads from strangers, the client objects a service handed it.
 */
import { Btf } from './btf.ts';
import { BtfParseError } from './errors.ts';
import { BtfStrings } from './strings.ts';
import { checkTypeLoops } from './type-loops.ts';
import { BTF_KIND, type BtfType } from './types.ts';

export { BtfParseError };
export const BTF_MAGIC = 0xeb9f;

export interface BtfHeader {
  littleEndian: boolean;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}

export function parseBtfHeader(buf: Buffer): BtfHeader {
  if (buf.length < 24) throw new BtfParseError(`too short for a BTF header (${buf.length} bytes)`);
  let littleEndian: boolean;
  if (buf.readUInt16LE(0) === BTF_MAGIC) littleEndian = true;
  else if (buf.readUInt16BE(0) === BTF_MAGIC) littleEndian = false;
  else throw new BtfParseError(`bad magic 0x${buf.readUInt16LE(0).toString(16)} (expected 0xeb9f)`);
  const u32 = (o: number) => (littleEndian ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const header: BtfHeader = {
    littleEndian,
    version: buf[2]!,
    flags: buf[3]!,
    hdrLen: u32(4),
    typeOff: u32(8),
    typeLen: u32(12),
    strOff: u32(16),
    strLen: u32(20),
  };
  if (header.version !== 1) throw new BtfParseError(`unsupported BTF version ${header.version}`);
  if (header.hdrLen < 24 || header.hdrLen > buf.length) throw new BtfParseError(`bad header length ${header.hdrLen}`);
  const end = (off: number, len: number) => header.hdrLen + off + len;
  if (end(header.typeOff, header.typeLen) > buf.length) throw new BtfParseError('type section runs past the end');
  if (end(header.strOff, header.strLen) > buf.length) throw new BtfParseError('string section runs past the end');
  if (header.typeLen % 4 !== 0) throw new BtfParseError('type section length is not a multiple of 4');
  return header;
}

export function parseBtf(buf: Buffer): Btf {
  const h = parseBtfHeader(buf);
  const le = h.littleEndian;
  const strStart = h.hdrLen + h.strOff;
  const strings = new BtfStrings(buf.subarray(strStart, strStart + h.strLen), buf.length);
  const str = (off: number): string => strings.at(off);

  let pos = h.hdrLen + h.typeOff;
  const typesEnd = pos + h.typeLen;
  const need = (bytes: number) => {
    if (pos + bytes > typesEnd) throw new BtfParseError(`type record at byte ${pos} runs past the type section`);
  };
  const u32 = () => {
    const v = le ? buf.readUInt32LE(pos) : buf.readUInt32BE(pos);
    pos += 4;
    return v;
  };
  const s32 = () => {
    const v = le ? buf.readInt32LE(pos) : buf.readInt32BE(pos);
    pos += 4;
    return v;
  };

  const types: BtfType[] = [{ id: 0, kind: 'void', name: '' }];
  while (pos < typesEnd) {
    need(12);
    const id = types.length;
    const nameOff = u32();
    const info = u32();
    const sizeOrType = u32();
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const kindFlag = info >>> 31 === 1;
    const name = str(nameOff);
    switch (kind) {
      case BTF_KIND.INT: {
        need(4);
        const enc = u32();
        const flags = (enc >>> 24) & 0x0f;
        types.push({ id, kind: 'int', name, size: sizeOrType, bits: enc & 0xff, bitOffset: (enc >>> 16) & 0xff, signed: (flags & 1) !== 0, char: (flags & 2) !== 0, bool: (flags & 4) !== 0 });
        break;
      }
      case BTF_KIND.PTR:
        types.push({ id, kind: 'ptr', name, type: sizeOrType });
        break;
      case BTF_KIND.ARRAY: {
        need(12);
        const type = u32();
        const indexType = u32();
        types.push({ id, kind: 'array', name, type, indexType, length: u32() });
        break;
      }
      case BTF_KIND.STRUCT:
      case BTF_KIND.UNION: {
        need(12 * vlen);
        const members = [];
        for (let i = 0; i < vlen; i++) {
          const memberName = str(u32());
          const type = u32();
          const offset = u32();
          members.push(kindFlag
            ? { name: memberName, type, bitOffset: offset & 0xffffff, bitSize: offset >>> 24 }
            : { name: memberName, type, bitOffset: offset, bitSize: 0 });
        }
        types.push({ id, kind: kind === BTF_KIND.STRUCT ? 'struct' : 'union', name, size: sizeOrType, members });
        break;
      }
      case BTF_KIND.ENUM: {
        need(8 * vlen);
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const valueName = str(u32());
          values.push({ name: valueName, value: BigInt(kindFlag ? s32() : u32()) });
        }
        types.push({ id, kind: 'enum', name, size: sizeOrType, signed: kindFlag, values });
        break;
      }
      case BTF_KIND.ENUM64: {
        need(12 * vlen);
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const valueName = str(u32());
          const lo = BigInt(u32());
          const hi = BigInt(u32());
          const raw = (hi << 32n) | lo;
          values.push({ name: valueName, value: kindFlag ? BigInt.asIntN(64, raw) : raw });
        }
        types.push({ id, kind: 'enum', name, size: sizeOrType, signed: kindFlag, values });
        break;
      }
      case BTF_KIND.FWD:
        types.push({ id, kind: 'fwd', name, union: kindFlag });
        break;
      case BTF_KIND.TYPEDEF:
      case BTF_KIND.VOLATILE:
      case BTF_KIND.CONST:
      case BTF_KIND.RESTRICT:
      case BTF_KIND.TYPE_TAG: {
        const k = ({ [BTF_KIND.TYPEDEF]: 'typedef', [BTF_KIND.VOLATILE]: 'volatile', [BTF_KIND.CONST]: 'const', [BTF_KIND.RESTRICT]: 'restrict', [BTF_KIND.TYPE_TAG]: 'type_tag' } as const)[kind];
        types.push({ id, kind: k, name, type: sizeOrType });
        break;
      }
      case BTF_KIND.FUNC:
        types.push({ id, kind: 'func', name, type: sizeOrType, linkage: vlen });
        break;
      case BTF_KIND.FUNC_PROTO: {
        need(8 * vlen);
        const params = [];
        for (let i = 0; i < vlen; i++) {
          const paramName = str(u32());
          params.push({ name: paramName, type: u32() });
        }
        types.push({ id, kind: 'func_proto', name, type: sizeOrType, params });
        break;
      }
      case BTF_KIND.VAR:
        need(4);
        types.push({ id, kind: 'var', name, type: sizeOrType, linkage: u32() });
        break;
      case BTF_KIND.DATASEC: {
        need(12 * vlen);
        const vars = [];
        for (let i = 0; i < vlen; i++) {
          const type = u32();
          const offset = u32();
          vars.push({ type, offset, size: u32() });
        }
        types.push({ id, kind: 'datasec', name, size: sizeOrType, vars });
        break;
      }
      case BTF_KIND.FLOAT:
        types.push({ id, kind: 'float', name, size: sizeOrType });
        break;
      case BTF_KIND.DECL_TAG:
        need(4);
        types.push({ id, kind: 'decl_tag', name, type: sizeOrType, componentIdx: s32() });
        break;
      default:
        throw new BtfParseError(`type ${id} has unknown kind ${kind}`);
    }
  }
  checkReferences(types);
  checkTypeLoops(types);
  return new Btf(types);
}

/** Every type id a record names must exist: a dangling reference makes the blob unusable. */
function checkReferences(types: BtfType[]): void {
  const max = types.length - 1;
  const check = (from: BtfType, ref: number) => {
    if (ref > max) throw new BtfParseError(`type ${from.id} (${from.kind}) refers to missing type ${ref}`);
  };
  for (const t of types) {
    switch (t.kind) {
      case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
      case 'func': case 'var': case 'decl_tag':
        check(t, t.type);
        break;
      case 'array':
        check(t, t.type);
        check(t, t.indexType);
        break;
      case 'struct': case 'union':
        for (const m of t.members) check(t, m.type);
        break;
      case 'func_proto':
        check(t, t.type);
        for (const p of t.params) check(t, p.type);
        break;
      case 'datasec':
        for (const v of t.vars) check(t, v.type);
        break;
      default:
        break;
    }
  }
}
