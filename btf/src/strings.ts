/**
 * The names in a BTF string section, handed out as references to one decoded copy of the section
 * instead of a fresh copy per name: BTF lets any number of records name any offset, so copies
 * let a few KB of records name megabytes each (suffixes of one long string) and exhaust the heap.
 */
import { BtfParseError } from './errors.ts';

/**
 * The kernel refuses BTF names longer than KSYM_NAME_LEN (512); a few times that leaves room for
 * long decl_tag strings and still bounds what one reference can cost.
 */
export const MAX_NAME_BYTES = 4096;
/**
 * All name references together (a name counted once per record naming it) may add up to this many
 * bytes per byte of input, plus a fixed allowance. A vmlinux BTF needs 0.5; whatever reads the
 * names afterwards (indexes, catalogs, decoders) then costs at most a small multiple of the input.
 */
export const NAME_BYTES_PER_INPUT_BYTE = 8;
export const NAME_BYTES_ALLOWANCE = 1 << 20;
/** V8's longest string (2^29 - 24 characters) bounds the one decoded copy of the section. */
const MAX_SECTION_BYTES = (1 << 29) - 24;

export class BtfStrings {
  /** The section decoded byte for byte (latin1): ASCII names are slices of it, which V8 keeps as views. */
  private readonly text: string;
  /** Byte offset of every NUL in the section, ascending: the end of the name at any offset is a binary search away. */
  private readonly nulAt: Uint32Array;
  /** 1 when the string ending at nulAt[i] is ASCII; other strings are decoded as UTF-8 one by one. */
  private readonly ascii: Uint8Array;
  private readonly byOffset = new Map<number, string>();
  private budget: number;

  constructor(private readonly section: Buffer, inputBytes: number) {
    if (section.length === 0 || section[0] !== 0) throw new BtfParseError('string section must start with an empty string');
    if (section[section.length - 1] !== 0) throw new BtfParseError('string section is not NUL-terminated');
    if (section.length > MAX_SECTION_BYTES) throw new BtfParseError(`string section of ${section.length} bytes (at most ${MAX_SECTION_BYTES})`);
    let count = 0;
    for (let i = 0; i < section.length; i++) if (section[i] === 0) count++;
    this.nulAt = new Uint32Array(count);
    this.ascii = new Uint8Array(count);
    let n = 0;
    let isAscii = 1;
    for (let i = 0; i < section.length; i++) {
      const byte = section[i]!;
      if (byte === 0) {
        this.nulAt[n] = i;
        this.ascii[n++] = isAscii;
        isAscii = 1;
      } else if (byte > 0x7f) {
        isAscii = 0;
      }
    }
    this.text = section.toString('latin1');
    this.budget = inputBytes * NAME_BYTES_PER_INPUT_BYTE + NAME_BYTES_ALLOWANCE;
  }

  /** The NUL-terminated string at `offset`; throws BtfParseError past the section, a name cap or the total budget. */
  at(offset: number): string {
    if (offset === 0) return '';
    let name = this.byOffset.get(offset);
    if (name === undefined) {
      if (offset >= this.section.length) throw new BtfParseError(`string offset ${offset} outside the string section`);
      const i = this.firstNulFrom(offset);
      const end = this.nulAt[i]!;
      if (end - offset > MAX_NAME_BYTES) throw new BtfParseError(`the name at string offset ${offset} is ${end - offset} bytes long (at most ${MAX_NAME_BYTES})`);
      name = this.ascii[i] ? this.text.slice(offset, end) : this.section.toString('utf8', offset, end);
      this.byOffset.set(offset, name);
    }
    this.budget -= name.length;
    if (this.budget < 0) throw new BtfParseError(`names add up to more than ${NAME_BYTES_PER_INPUT_BYTE} bytes per byte of BTF: records name the same long strings over and over`);
    return name;
  }

  private firstNulFrom(offset: number): number {
    let lo = 0;
    let hi = this.nulAt.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nulAt[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
