import { btfBlob } from '@lbc/btf';

/** A minimal valid BTF blob (one INT type named `name`), distinct per name: test kernels without a kernel. */
export function tinyBtf(name = 'int'): Buffer {
  const strings = Buffer.from(`\0${name}\0`, 'utf8');
  const types = Buffer.alloc(16);
  types.writeUInt32LE(1, 0); // name_off
  types.writeUInt32LE(1 << 24, 4); // kind INT, vlen 0
  types.writeUInt32LE(4, 8); // size
  types.writeUInt32LE((1 << 24) | 32, 12); // signed, 32 bits
  return btfBlob(types, strings);
}
