/**
 * A small valid BTF cut from a real one: its first `count` types, references past them turned into
 * void, and only the names they use in the string section. Real shapes (bitfields, enums, func
 * protos, datasecs) for the fuzzer to mutate, without parsing megabytes per run.
 */
import { BTF_KIND, btfBlob, parseBtfHeader } from '@lbc/btf';

export function vmlinuxSlice(btf: Buffer, count: number): Buffer {
  const h = parseBtfHeader(btf);
  if (!h.littleEndian) throw new Error('the slice is cut from little-endian BTF');
  const strStart = h.hdrLen + h.strOff;
  const names = new Map<number, number>([[0, 0]]);
  const strings: Buffer[] = [Buffer.from([0])];
  let stringBytes = 1;
  const name = (off: number): number => {
    let mapped = names.get(off);
    if (mapped === undefined) {
      const from = strStart + off;
      const text = btf.subarray(from, btf.indexOf(0, from) + 1);
      mapped = stringBytes;
      stringBytes += text.length;
      strings.push(text);
      names.set(off, mapped);
    }
    return mapped;
  };
  const records: Buffer[] = [];
  let pos = h.hdrLen + h.typeOff;
  for (let id = 1; id <= count && pos < h.hdrLen + h.typeOff + h.typeLen; id++) {
    const info = btf.readUInt32LE(pos + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const extra = { [BTF_KIND.INT]: 4, [BTF_KIND.ARRAY]: 12, [BTF_KIND.STRUCT]: 12 * vlen, [BTF_KIND.UNION]: 12 * vlen, [BTF_KIND.ENUM]: 8 * vlen,
      [BTF_KIND.ENUM64]: 12 * vlen, [BTF_KIND.FUNC_PROTO]: 8 * vlen, [BTF_KIND.VAR]: 4, [BTF_KIND.DATASEC]: 12 * vlen, [BTF_KIND.DECL_TAG]: 4 }[kind] ?? 0;
    const r = Buffer.from(btf.subarray(pos, pos + 12 + extra));
    pos += r.length;
    const ref = (at: number) => {
      if (r.readUInt32LE(at) > count) r.writeUInt32LE(0, at);
    };
    r.writeUInt32LE(name(r.readUInt32LE(0)), 0);
    const sizeIsType = !([BTF_KIND.INT, BTF_KIND.STRUCT, BTF_KIND.UNION, BTF_KIND.ENUM, BTF_KIND.ENUM64, BTF_KIND.FWD, BTF_KIND.DATASEC, BTF_KIND.FLOAT, BTF_KIND.ARRAY] as number[]).includes(kind);
    if (sizeIsType) ref(8);
    if (kind === BTF_KIND.ARRAY) [12, 16].forEach(ref);
    for (let i = 0; i < vlen; i++) {
      if (kind === BTF_KIND.STRUCT || kind === BTF_KIND.UNION) {
        r.writeUInt32LE(name(r.readUInt32LE(12 + 12 * i)), 12 + 12 * i);
        ref(16 + 12 * i);
      } else if (kind === BTF_KIND.ENUM) r.writeUInt32LE(name(r.readUInt32LE(12 + 8 * i)), 12 + 8 * i);
      else if (kind === BTF_KIND.ENUM64) r.writeUInt32LE(name(r.readUInt32LE(12 + 12 * i)), 12 + 12 * i);
      else if (kind === BTF_KIND.FUNC_PROTO) {
        r.writeUInt32LE(name(r.readUInt32LE(12 + 8 * i)), 12 + 8 * i);
        ref(16 + 8 * i);
      } else if (kind === BTF_KIND.DATASEC) ref(12 + 12 * i);
    }
    records.push(r);
  }
  return btfBlob(Buffer.concat(records), Buffer.concat(strings));
}
