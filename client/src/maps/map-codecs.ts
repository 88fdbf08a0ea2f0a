/**
 * The codecs a map uses: its BTF key/value types when the object records them, else a codec by
 * size (4 → number, 8 → bigint, other → Buffer) so maps without BTF still work.
 */
import { endianness } from 'node:os';
import type { Btf } from '@lbc/btf';
import { codecFor, type Codec } from '../values/index.ts';

const HOST_LE = endianness() === 'LE';

export function sizedCodec(size: number, what: string): Codec {
  const integer = size === 1 || size === 2 || size === 4 || size === 8;
  const check = (value: unknown, path: string): Buffer => {
    const n = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : undefined;
    if (integer && n !== undefined) {
      if (n < 0n || n > (1n << BigInt(size * 8)) - 1n) throw new TypeError(`${path}: ${n} is out of range for a ${size * 8}-bit ${what}`);
      const buf = Buffer.alloc(8);
      if (HOST_LE) buf.writeBigUInt64LE(n);
      else buf.writeBigUInt64BE(n << BigInt(64 - size * 8));
      return buf.subarray(0, size);
    }
    if (Buffer.isBuffer(value) && value.length === size) return Buffer.from(value);
    const got = Buffer.isBuffer(value) ? `Buffer of ${value.length}` : typeof value;
    throw new TypeError(`${path}: expected ${integer ? 'integer or ' : ''}Buffer of ${size} bytes, got ${got}`);
  };
  return {
    typeId: 0,
    cType: `${what} of ${size} bytes (no BTF)`,
    size,
    decode: (b, o = 0) => {
      if (!integer) return Buffer.from(b.subarray(o, o + size));
      if (size === 1) return b[o];
      if (size === 8) return HOST_LE ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
      return HOST_LE ? b.readUIntLE(o, size) : b.readUIntBE(o, size);
    },
    encode: (value, path = what) => check(value, path),
    encodeInto: (buf, offset, value, path = what) => check(value, path).copy(buf, offset),
  };
}

export function mapCodec(btf: Btf | null, typeId: number, size: number, what: 'key' | 'value'): Codec {
  if (btf && typeId > 0) {
    const codec = codecFor(btf, typeId);
    if (codec.size === size) return codec;
  }
  return sizedCodec(size, what);
}

const EVENT_TAG = 'lbc.event=';
const HIST_TAG = 'lbc.hist=';

/** The value of the first decl tag `prefix…` on the map's variable in the .maps section. */
function mapDeclTag(btf: Btf | null, mapName: string, prefix: string): string | undefined {
  if (!btf) return undefined;
  const mapsSec = btf.findByName('.maps', 'datasec')[0];
  const varIds = new Set(mapsSec?.vars.map((v) => v.type) ?? []);
  for (const v of btf.findByName(mapName, 'var')) {
    if (mapsSec && !varIds.has(v.id)) continue;
    const tag = btf.declTags(v.id).find((t) => t.startsWith(prefix));
    if (tag) return tag.slice(prefix.length);
  }
  return undefined;
}

/**
 * The event type lbc.h recorded for a perf/ring buffer map: a BTF decl tag "lbc.event=<C type>"
 * on the map's variable in the .maps section. Undefined when absent or not found.
 */
export function recordedEventType(btf: Btf | null, mapName: string): number | undefined {
  const cType = mapDeclTag(btf, mapName, EVENT_TAG);
  return cType === undefined ? undefined : btf!.lookupCType(cType);
}

export type HistScale = 'log2' | 'log10';

/** The scale lbc.h's LBC_HIST2 / LBC_HIST10 recorded ("lbc.hist=log2|log10"); undefined for any other map. */
export function recordedHistScale(btf: Btf | null, mapName: string): HistScale | undefined {
  const scale = mapDeclTag(btf, mapName, HIST_TAG);
  return scale === 'log2' || scale === 'log10' ? scale : undefined;
}
