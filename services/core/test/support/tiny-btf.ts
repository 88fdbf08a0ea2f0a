/** A minimal valid BTF blob (one INT type named `name`), distinct per name: test kernels without a kernel. */
export function tinyBtf(name = 'int'): Buffer {
  const strings = Buffer.from(`\0${name}\0`, 'utf8');
  const types = Buffer.alloc(16);
  types.writeUInt32LE(1, 0); // name_off
  types.writeUInt32LE(1 << 24, 4); // kind INT, vlen 0
  types.writeUInt32LE(4, 8); // size
  types.writeUInt32LE((1 << 24) | 32, 12); // signed, 32 bits
  const header = Buffer.alloc(24);
  header.writeUInt16LE(0xeb9f, 0);
  header.writeUInt8(1, 2);
  header.writeUInt8(0, 3);
  header.writeUInt32LE(24, 4);
  header.writeUInt32LE(0, 8);
  header.writeUInt32LE(types.length, 12);
  header.writeUInt32LE(types.length, 16);
  header.writeUInt32LE(strings.length, 20);
  return Buffer.concat([header, types, strings]);
}
