/**
 * Bitfields as BTF lays them out: `bitOffset` counts from the first byte in memory order, so on
 * little endian bit 0 is the low bit of byte 0 and on big endian the high bit of byte 0.
 */

export interface BitSpan {
  /** First byte holding the field, relative to the containing struct. */
  byte: number;
  /** Bytes touched, 1..9. */
  bytes: number;
  /** Right shift that brings the field down to bit 0 of the assembled integer. */
  shift: number;
  bits: number;
}

export function bitSpan(bitOffset: number, bits: number, littleEndian: boolean): BitSpan {
  const byte = Math.floor(bitOffset / 8);
  const within = bitOffset % 8;
  const bytes = Math.ceil((within + bits) / 8);
  return { byte, bytes, bits, shift: littleEndian ? within : bytes * 8 - within - bits };
}

function assemble(b: Buffer, o: number, bytes: number, le: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < bytes; i++) {
    const byte = BigInt(b[o + (le ? bytes - 1 - i : i)]);
    v = (v << 8n) | byte;
  }
  return v;
}

/** Reads the field as a bigint (callers narrow to number where the C type is ≤ 32 bits). */
export function readBits(b: Buffer, o: number, span: BitSpan, signed: boolean, le: boolean): bigint {
  const raw = (assemble(b, o + span.byte, span.bytes, le) >> BigInt(span.shift)) & ((1n << BigInt(span.bits)) - 1n);
  return signed ? BigInt.asIntN(span.bits, raw) : raw;
}

/** Writes the low `span.bits` of `value`, keeping the neighbouring bits. */
export function writeBits(b: Buffer, o: number, span: BitSpan, value: bigint, le: boolean): void {
  const mask = ((1n << BigInt(span.bits)) - 1n) << BigInt(span.shift);
  let v = assemble(b, o + span.byte, span.bytes, le);
  v = (v & ~mask) | ((BigInt.asUintN(span.bits, value) << BigInt(span.shift)) & mask);
  for (let i = 0; i < span.bytes; i++) {
    const shift = BigInt(8 * i);
    b[o + span.byte + (le ? i : span.bytes - 1 - i)] = Number((v >> shift) & 0xffn);
  }
}
