/**
 * JS source reading one scalar, for the compiled decoder (decoder.ts). Inside the decoder `b` is
 * the Buffer and `o` the offset of the value being decoded; `d` is a DataView over all of
 * `b.buffer` and `p` the same position as `o` counted in it (`p = b.byteOffset + o`).
 *
 * Why not Buffer's own readers: in a decoder of more than a few fields V8 stops inlining
 * b.readUInt32LE (a 32 × u32 struct: ~500 ns as calls, ~130 ns as byte arithmetic), and
 * b.readBigUInt64LE builds each bigint from two halves with three bigint operations where
 * DataView.getBigUint64 makes it at once (~45 vs ~13 ns a field; node 20 micro benchmarks, and
 * bench/decode.ts's exec_event shows it on a whole record). The decoder checks once that the whole value lies inside `b`, which these
 * reads then rely on: byte reads past the end would give NaN rather than throw, and `d` spans
 * the whole ArrayBuffer, not just `b`.
 */
import type { BitSpan } from './bitfield.ts';

export interface ScalarSource {
  /** Bytes read by index from `b`: 1-, 2- and 4-byte integers (numbers). */
  int(size: 1 | 2 | 4, signed: boolean, off: number): string;
  /** Read through the DataView `d`: 8-byte integers (bigints) and floats. */
  viaView(kind: 'int64' | 'uint64' | 'float32' | 'float64', off: number): string;
  /**
   * A bitfield lying in at most 4 bytes, as a number: 32-bit integer arithmetic instead of
   * bitfield.ts's bigint assembly (~10x faster); wider ones, or ones of a 64-bit type (bigints),
   * stay with readBits.
   */
  bits(span: BitSpan, signed: boolean): string | undefined;
}

export function scalarSource(littleEndian: boolean): ScalarSource {
  const byte = (off: number) => (off === 0 ? 'b[o]' : `b[o + ${off}]`);
  /** Byte `i` in significance order (0 = least significant) of a `size`-byte integer at `off`. */
  const sig = (off: number, size: number, i: number) => byte(littleEndian ? off + i : off + size - 1 - i);
  return {
    int(size, signed, off) {
      switch (size) {
        case 1:
          return signed ? `(${byte(off)} << 24 >> 24)` : byte(off);
        case 2: {
          const u = `(${sig(off, 2, 0)} | ${sig(off, 2, 1)} << 8)`;
          return signed ? `(${u} << 16 >> 16)` : u;
        }
        case 4: {
          const low3 = `${sig(off, 4, 0)} | ${sig(off, 4, 1)} << 8 | ${sig(off, 4, 2)} << 16`;
          // `| x << 24` is the signed 32-bit value; unsigned adds the top byte without the sign.
          return signed ? `(${low3} | ${sig(off, 4, 3)} << 24)` : `((${low3}) + ${sig(off, 4, 3)} * 0x1000000)`;
        }
      }
    },
    bits(span, signed) {
      if (span.bytes > 4) return undefined;
      const parts = [];
      for (let i = 0; i < span.bytes; i++) parts.push(i === 0 ? sig(span.byte, span.bytes, 0) : `${sig(span.byte, span.bytes, i)} << ${8 * i}`);
      const raw = `(${parts.join(' | ')})`;
      if (signed) return `(${raw} >>> ${span.shift} << ${32 - span.bits} >> ${32 - span.bits})`;
      return span.bits === 32 ? `(${raw} >>> 0)` : `(${raw} >>> ${span.shift} & ${2 ** span.bits - 1})`;
    },
    viaView(kind, off) {
      const method = { int64: 'getBigInt64', uint64: 'getBigUint64', float32: 'getFloat32', float64: 'getFloat64' }[kind];
      return `d.${method}(${off === 0 ? 'p' : `p + ${off}`}, ${littleEndian})`;
    },
  };
}
