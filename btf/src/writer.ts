/**
 * Writes raw BTF type by type: for tests that need shapes no compiler emits (hostile nesting,
 * cycles), and for the client's snapshot warm-up, which needs a BTF without a compiler.
 * Little-endian, version 1, the kinds the catalog reads.
 */
const KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, TYPEDEF: 8, FUNC: 12, FUNC_PROTO: 13 } as const;

/** A BTF blob: the 24-byte header (magic, version 1, no flags) before the type and string sections. */
export function btfBlob(types: Buffer, strings: Buffer): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt16LE(0xeb9f, 0);
  header.writeUInt8(1, 2);
  header.writeUInt32LE(24, 4);
  header.writeUInt32LE(0, 8);
  header.writeUInt32LE(types.length, 12);
  header.writeUInt32LE(types.length, 16);
  header.writeUInt32LE(strings.length, 20);
  return Buffer.concat([header, types, strings]);
}

export class BtfWriter {
  private readonly records: Buffer[] = [];
  private readonly strings: string[] = [''];
  private stringBytes = 1;
  private readonly offsets = new Map<string, number>([['', 0]]);
  private count = 0;

  int(name: string, size = 4, signed = true): number {
    const enc = Buffer.alloc(4);
    enc.writeUInt32LE(((signed ? 1 : 0) << 24) | (size * 8));
    return this.add(name, KIND.INT, 0, size, enc);
  }

  ptr(type: number): number {
    return this.add('', KIND.PTR, 0, type);
  }

  array(type: number, length: number, indexType: number): number {
    const body = Buffer.alloc(12);
    body.writeUInt32LE(type, 0);
    body.writeUInt32LE(indexType, 4);
    body.writeUInt32LE(length, 8);
    return this.add('', KIND.ARRAY, 0, 0, body);
  }

  typedef(name: string, type: number): number {
    return this.add(name, KIND.TYPEDEF, 0, type);
  }

  /** Reserves an id for a struct whose members may refer to it (or to later types); fill it with struct(). */
  reserve(): number {
    this.records.push(Buffer.alloc(0));
    return ++this.count;
  }

  struct(name: string, size: number, members: { name: string; type: number; bitOffset: number }[], id?: number): number {
    const body = Buffer.alloc(12 * members.length);
    members.forEach((m, i) => {
      body.writeUInt32LE(this.str(m.name), 12 * i);
      body.writeUInt32LE(m.type, 12 * i + 4);
      body.writeUInt32LE(m.bitOffset, 12 * i + 8);
    });
    return this.add(name, KIND.STRUCT, members.length, size, body, id);
  }

  funcProto(returns: number, params: { name: string; type: number }[]): number {
    const body = Buffer.alloc(8 * params.length);
    params.forEach((p, i) => {
      body.writeUInt32LE(this.str(p.name), 8 * i);
      body.writeUInt32LE(p.type, 8 * i + 4);
    });
    return this.add('', KIND.FUNC_PROTO, params.length, returns, body);
  }

  func(name: string, proto: number): number {
    return this.add(name, KIND.FUNC, 1, proto);
  }

  build(): Buffer {
    const types = Buffer.concat(this.records);
    const strings = Buffer.from(this.strings.map((s) => `${s}\0`).join(''), 'utf8');
    return btfBlob(types, strings);
  }

  private add(name: string, kind: number, vlen: number, sizeOrType: number, body = Buffer.alloc(0), id?: number): number {
    const head = Buffer.alloc(12);
    head.writeUInt32LE(this.str(name), 0);
    head.writeUInt32LE(((kind & 0x1f) << 24) | (vlen & 0xffff), 4);
    head.writeUInt32LE(sizeOrType, 8);
    const record = Buffer.concat([head, body]);
    if (id !== undefined) {
      this.records[id - 1] = record;
      return id;
    }
    this.records.push(record);
    return ++this.count;
  }

  private str(s: string): number {
    let off = this.offsets.get(s);
    if (off === undefined) {
      off = this.stringBytes;
      this.offsets.set(s, off);
      this.strings.push(s);
      this.stringBytes += Buffer.byteLength(s) + 1;
    }
    return off;
  }
}
