/**
 * BTF built as an attacker builds it, for the hostile tests of the parser, the service and the
 * client. Each blob is small on the wire and would cost far more than its size to a careless reader.
 */
import { gzipSync } from 'node:zlib';
import { btfBlob } from '@lbc/btf';

const TYPEDEF = 8;

/** A TYPEDEF record (12 bytes) naming the string at `nameOff` and pointing at `type`. */
function typedef(nameOff: number, type: number): Buffer {
  const r = Buffer.alloc(12);
  r.writeUInt32LE(nameOff, 0);
  r.writeUInt32LE(TYPEDEF << 24, 4);
  r.writeUInt32LE(type, 8);
  return r;
}

/**
 * The name bomb: `types` typedefs, each named by a suffix of one `stringBytes`-long string. A parser
 * that copies each name holds types × stringBytes (400 × 16 MB = 6.4 GB); gzipped it is ~16 KB.
 */
export function nameBombBtf({ stringBytes = 16 << 20, types = 400 } = {}): { raw: Buffer; gzip: Buffer } {
  const strings = Buffer.alloc(stringBytes + 2, 'A');
  strings[0] = 0;
  strings[strings.length - 1] = 0;
  const records = Buffer.concat(Array.from({ length: types }, (_, i) => typedef(1 + i, 0)));
  const raw = btfBlob(records, strings);
  return { raw, gzip: gzipSync(raw, { level: 9 }) };
}

/**
 * The same attack within the per-name cap: one name of `nameBytes` named by `types` records, so the
 * names together are types × nameBytes, hundreds of times the blob's size.
 */
export function repeatedNameBtf({ nameBytes = 4000, types = 200_000 } = {}): Buffer {
  const strings = Buffer.alloc(nameBytes + 2, 'B');
  strings[0] = 0;
  strings[strings.length - 1] = 0;
  const records = Buffer.concat(Array.from({ length: types }, () => typedef(1, 0)));
  return btfBlob(records, strings);
}

/** Two typedefs naming each other (`typedef pong ping; typedef ping pong;`): 59 bytes that spin bpftool for minutes. */
export function typedefLoopBtf(): Buffer {
  return btfBlob(Buffer.concat([typedef(1, 2), typedef(6, 1)]), Buffer.from('\0ping\0pong\0'));
}

/**
 * Real BTF (an object's .BTF) with the name bomb appended: its types and strings stay where they
 * were, so libbpf opens the object as before, and `types` typedefs more name suffixes of a new
 * `stringBytes`-long string.
 */
export function withNameBomb(btf: Buffer, { stringBytes = 16 << 20, types = 400 } = {}): Buffer {
  const hdrLen = btf.readUInt32LE(4);
  const typeOff = btf.readUInt32LE(8);
  const typeLen = btf.readUInt32LE(12);
  const strOff = btf.readUInt32LE(16);
  const strLen = btf.readUInt32LE(20);
  const oldTypes = btf.subarray(hdrLen + typeOff, hdrLen + typeOff + typeLen);
  const oldStrings = btf.subarray(hdrLen + strOff, hdrLen + strOff + strLen);
  const long = Buffer.alloc(stringBytes + 1, 'A');
  long[stringBytes] = 0;
  const records = Array.from({ length: types }, (_, i) => typedef(strLen + i, 0));
  return btfBlob(Buffer.concat([oldTypes, ...records]), Buffer.concat([oldStrings, long]));
}
