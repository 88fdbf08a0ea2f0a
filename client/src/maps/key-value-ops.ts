/** get/set/delete and iteration over hash, array and per-CPU maps, typed by the map's codecs. */
import { isArrayLike } from './map-types.ts';
import { nativeCall, type MapContext } from './map-context.ts';

export interface MapEntry<K = unknown, V = unknown> {
  key: K;
  value: V;
}

/** BPF_ANY / BPF_NOEXIST / BPF_EXIST. */
export type UpdateFlag = 'any' | 'noexist' | 'exist';
const FLAGS: Record<UpdateFlag, number> = { any: 0, noexist: 1, exist: 2 };

export class KeyValueOps {
  /** Bytes one CPU's value takes in a per-CPU buffer (the kernel rounds to 8). */
  private readonly stride: number;
  private readonly valueBytes: number;

  constructor(private readonly ctx: MapContext) {
    this.stride = ctx.perCpu ? Math.ceil(ctx.info.valueSize / 8) * 8 : ctx.info.valueSize;
    this.valueBytes = this.stride * ctx.cpus;
  }

  encodeKey(key: unknown): Buffer {
    return this.ctx.key.encode(key, 'key');
  }

  decodeValue(buf: Buffer): unknown {
    if (!this.ctx.perCpu) return this.ctx.value.decode(buf, 0);
    const out = new Array(this.ctx.cpus);
    for (let cpu = 0; cpu < this.ctx.cpus; cpu++) out[cpu] = this.ctx.value.decode(buf, cpu * this.stride);
    return out;
  }

  /** Per-CPU maps take one value per CPU (an array of `cpus` values). */
  encodeValue(value: unknown): Buffer {
    if (!this.ctx.perCpu) return this.ctx.value.encode(value, 'value');
    if (!Array.isArray(value) || value.length !== this.ctx.cpus) {
      throw new TypeError(`value: per-CPU map ${this.ctx.info.name} needs an array of ${this.ctx.cpus} values (one per possible CPU)`);
    }
    const buf = Buffer.alloc(this.valueBytes);
    value.forEach((v, cpu) => this.ctx.value.encodeInto(buf, cpu * this.stride, v, `value[${cpu}]`));
    return buf;
  }

  get(key: unknown): unknown {
    const k = this.encodeKey(key);
    const raw = nativeCall(this.ctx, 'get', () => this.ctx.native.mapLookup(this.ctx.info.fd, k, this.valueBytes));
    return raw === null ? undefined : this.decodeValue(raw);
  }

  /** The value under a key given as its raw bytes (as rawKeys() returns them), decoded. */
  getRaw(key: Buffer): unknown {
    const raw = nativeCall(this.ctx, 'get', () => this.ctx.native.mapLookup(this.ctx.info.fd, key, this.valueBytes));
    return raw === null ? undefined : this.decodeValue(raw);
  }

  set(key: unknown, value: unknown, flag: UpdateFlag = 'any'): void {
    // An unknown flag would reach the kernel as 0 (BPF_ANY): a 'noexist' misspelt would overwrite.
    if (!Object.hasOwn(FLAGS, flag)) throw new TypeError(`flag: expected one of ${Object.keys(FLAGS).join(', ')}, got ${JSON.stringify(flag)}`);
    const k = this.encodeKey(key);
    const v = this.encodeValue(value);
    nativeCall(this.ctx, 'set', () => this.ctx.native.mapUpdate(this.ctx.info.fd, k, v, FLAGS[flag]));
  }

  delete(key: unknown): boolean {
    const k = this.encodeKey(key);
    return nativeCall(this.ctx, 'delete', () => this.ctx.native.mapDelete(this.ctx.info.fd, k));
  }

  /** Raw keys in kernel order. A key deleted meanwhile makes the kernel restart: repeats end the walk. */
  rawKeys(): Buffer[] {
    const { native, info } = this.ctx;
    const seen = new Set<string>();
    const out: Buffer[] = [];
    let cur: Buffer | null = null;
    for (;;) {
      const prev: Buffer | null = cur;
      const next: Buffer | null = nativeCall(this.ctx, 'keys', () => native.mapNextKey(info.fd, prev, info.keySize));
      if (next === null) break;
      const id = next.toString('latin1');
      if (seen.has(id)) break;
      seen.add(id);
      out.push(next);
      cur = next;
    }
    return out;
  }

  keys(): unknown[] {
    return this.rawKeys().map((k) => this.ctx.key.decode(k, 0));
  }

  entries(): [unknown, unknown][] {
    const out: [unknown, unknown][] = [];
    for (const k of this.rawKeys()) {
      const raw = nativeCall(this.ctx, 'entries', () => this.ctx.native.mapLookup(this.ctx.info.fd, k, this.valueBytes));
      if (raw !== null) out.push([this.ctx.key.decode(k, 0), this.decodeValue(raw)]);
    }
    return out;
  }

  /** Every entry as { key, value } (pylcc's get()). */
  getAll(): MapEntry[] {
    return this.entries().map(([key, value]) => ({ key, value }));
  }

  /** Reads every entry, then removes it (array maps: zeroes it). */
  getThenClear(): MapEntry[] {
    const out: MapEntry[] = [];
    for (const k of this.rawKeys()) {
      const raw = nativeCall(this.ctx, 'getThenClear', () => this.ctx.native.mapLookup(this.ctx.info.fd, k, this.valueBytes));
      if (raw === null) continue;
      out.push({ key: this.ctx.key.decode(k, 0), value: this.decodeValue(raw) });
      this.clearRaw(k);
    }
    return out;
  }

  clear(): void {
    for (const k of this.rawKeys()) this.clearRaw(k);
  }

  private clearRaw(k: Buffer): void {
    const { native, info } = this.ctx;
    if (isArrayLike(info.type)) nativeCall(this.ctx, 'clear', () => native.mapUpdate(info.fd, k, Buffer.alloc(this.valueBytes), FLAGS.any));
    else nativeCall(this.ctx, 'clear', () => native.mapDelete(info.fd, k));
  }
}
