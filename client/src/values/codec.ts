/** One compiled decoder + encoder per (BTF, type id), shared by every map and event stream. */
import { endianness } from 'node:os';
import type { Btf } from '@lbc/btf';
import { compileDecoder, type Decoder } from './decoder.ts';
import { compileEncoder, type Encoder } from './encoder.ts';

export interface Codec {
  typeId: number;
  /** C spelling of the type, for messages. */
  cType: string;
  size: number;
  decode: Decoder;
  /** A fresh buffer of `size` bytes holding `value`; TypeError (naming `path`) on any mismatch. */
  encode(value: unknown, path?: string): Buffer;
  encodeInto(buf: Buffer, offset: number, value: unknown, path?: string): void;
}

export interface CodecOptions {
  /** Byte order of the data; the kernel's (this host's) by default. */
  littleEndian?: boolean;
}

const HOST_LE = endianness() === 'LE';
const cache = new WeakMap<Btf, Map<string, Codec>>();

export function codecFor(btf: Btf, typeId: number, opts: CodecOptions = {}): Codec {
  const le = opts.littleEndian ?? HOST_LE;
  let perBtf = cache.get(btf);
  if (!perBtf) cache.set(btf, (perBtf = new Map()));
  const key = `${typeId}:${le ? 'le' : 'be'}`;
  let codec = perBtf.get(key);
  if (!codec) perBtf.set(key, (codec = compileCodec(btf, typeId, le)));
  return codec;
}

function compileCodec(btf: Btf, typeId: number, le: boolean): Codec {
  const size = btf.sizeof(typeId);
  const cType = btf.describe(typeId);
  const decode = compileDecoder(btf, typeId, le);
  const enc: Encoder = compileEncoder(btf, typeId, le);
  const encodeInto = (buf: Buffer, offset: number, value: unknown, path = 'value') => {
    // Raw bytes of exactly the type's size pass through: escape hatch for hand-built keys.
    if (Buffer.isBuffer(value) && value.length === size && !isByteArrayType(btf, typeId)) {
      value.copy(buf, offset);
      return;
    }
    enc(buf, offset, value, path);
  };
  return {
    typeId,
    cType,
    size,
    decode,
    encodeInto,
    encode(value, path = 'value') {
      const buf = Buffer.alloc(size);
      encodeInto(buf, 0, value, path);
      return buf;
    },
  };
}

/** char[N] and u8[N] already take Buffers through their own encoder, with their own checks. */
function isByteArrayType(btf: Btf, typeId: number): boolean {
  const t = btf.resolve(typeId);
  return t.kind === 'array' && btf.sizeof(t.type) === 1;
}

