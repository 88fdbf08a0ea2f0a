/**
 * Raw 64-bit argument and return slots rendered by their BTF types (--args, return values of the
 * BPF engine): signed and unsigned integers by size, bool, pointers in hex, error pointers and
 * negative errnos as such; --proto's prototypes in C.
 */
import type { Btf } from '@lbc/btf';
import { functionProto } from '../trace/translate.ts';

/** ERR_PTR values: the top 4095 addresses. */
const MAX_ERRNO = 4095n;

export function renderValue(btf: Btf, typeId: number, raw: bigint): string {
  if (typeId === 0) return `0x${raw.toString(16)}`;
  const t = btf.resolve(typeId);
  switch (t.kind) {
    case 'ptr': {
      if (raw === 0n) return 'NULL';
      if (raw >= (1n << 64n) - MAX_ERRNO) return `ERR_PTR(${BigInt.asIntN(64, raw)})`;
      return `0x${raw.toString(16)}`;
    }
    case 'int': {
      const bits = t.size * 8;
      if (t.name === '_Bool' || t.name === 'bool') return BigInt.asUintN(8, raw) ? 'true' : 'false';
      return (t.signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw)).toString();
    }
    case 'enum':
      return (t.signed ? BigInt.asIntN(t.size * 8, raw) : BigInt.asUintN(t.size * 8, raw)).toString();
    default:
      return `0x${raw.toString(16)}`;
  }
}

export interface FunctionShape {
  params: Array<{ name: string; type: number }>;
  /** 0 for void. */
  ret: number;
}

export function shapeOfFunction(btf: Btf, name: string): FunctionShape | undefined {
  const proto = functionProto(btf, name);
  return proto ? { params: proto.params, ret: proto.ret } : undefined;
}

/** `struct file *do_filp_open(int dfd, struct filename *pathname, const struct open_flags *op)`, from BTF. */
export function prototypeText(btf: Btf, name: string, withReturn = false): string | undefined {
  const proto = functionProto(btf, name);
  if (!proto) return undefined;
  const spell = (id: number, param = '') => {
    const type = id === 0 ? 'void' : btf.describe(id);
    return param ? `${type}${type.endsWith('*') ? '' : ' '}${param}` : type;
  };
  const params = proto.params.map((p) => (p.type === 0 ? '...' : spell(p.type, p.name))).join(', ') || 'void';
  const ret = spell(proto.ret);
  return withReturn ? `${ret}${ret.endsWith('*') ? '' : ' '}${name}(${params})` : `${name}(${params})`;
}
