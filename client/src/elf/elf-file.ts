/**
 * A minimal ELF64 reader (little and big endian): the header, section headers and program headers.
 * Enough to pull `.BTF` out of a BPF object and to map symbols to file offsets for uprobes,
 * without libbpf or binutils.
 */
import { LbcError } from '@lbc/contract';

export const SHT_SYMTAB = 2;
export const SHT_DYNSYM = 11;
export const SHT_NOBITS = 8;
export const PT_LOAD = 1;
export const ET_REL = 1;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

/** Reads fixed-width fields in the file's byte order; 64-bit values become numbers (exact below 2^53). */
export class ElfReader {
  constructor(readonly buf: Buffer, readonly littleEndian: boolean) {}
  u8(off: number): number { return this.buf.readUInt8(off); }
  u16(off: number): number { return this.littleEndian ? this.buf.readUInt16LE(off) : this.buf.readUInt16BE(off); }
  u32(off: number): number { return this.littleEndian ? this.buf.readUInt32LE(off) : this.buf.readUInt32BE(off); }
  u64(off: number): number {
    return Number(this.littleEndian ? this.buf.readBigUInt64LE(off) : this.buf.readBigUInt64BE(off));
  }
  /** NUL-terminated string starting at `off`. */
  cstr(off: number): string {
    const end = this.buf.indexOf(0, off);
    return this.buf.toString('latin1', off, end < 0 ? this.buf.length : end);
  }
}

export class ElfFile {
  readonly reader: ElfReader;
  readonly type: number;
  readonly machine: number;
  readonly sections: ElfSection[];
  readonly segments: ElfSegment[];

  constructor(readonly buf: Buffer, readonly source = '<buffer>') {
    if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw invalid(source, 'no ELF magic');
    if (buf[4] !== 2) throw invalid(source, 'not a 64-bit ELF file');
    if (buf[5] !== 1 && buf[5] !== 2) throw invalid(source, 'unknown byte order');
    const r = (this.reader = new ElfReader(buf, buf[5] === 1));
    this.type = r.u16(16);
    this.machine = r.u16(18);
    try {
      this.segments = readSegments(r);
      this.sections = readSections(r);
    } catch (err) {
      if (err instanceof LbcError) throw err;
      throw invalid(source, 'header tables run past the end of the file', err);
    }
  }

  get littleEndian(): boolean {
    return this.reader.littleEndian;
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The bytes of a section (a view, not a copy); null for absent or NOBITS sections. */
  sectionData(nameOrSection: string | ElfSection): Buffer | null {
    const s = typeof nameOrSection === 'string' ? this.section(nameOrSection) : nameOrSection;
    if (!s || s.type === SHT_NOBITS) return null;
    if (s.offset + s.size > this.buf.length) throw invalid(this.source, `section ${s.name} runs past the end of the file`);
    return this.buf.subarray(s.offset, s.offset + s.size);
  }

  /** File offset of a virtual address, through the PT_LOAD segment that maps it. */
  vaddrToOffset(vaddr: number): number | null {
    for (const p of this.segments) {
      if (p.type === PT_LOAD && vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz) return vaddr - p.vaddr + p.offset;
    }
    return null;
  }

  /** Virtual address of a file offset, through the PT_LOAD segment that holds it. */
  offsetToVaddr(offset: number): number | null {
    for (const p of this.segments) {
      if (p.type === PT_LOAD && offset >= p.offset && offset < p.offset + p.filesz) return offset - p.offset + p.vaddr;
    }
    return null;
  }
}

function readSegments(r: ElfReader): ElfSegment[] {
  const phoff = r.u64(32);
  const phentsize = r.u16(54);
  const phnum = r.u16(56);
  const out: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    out.push({ type: r.u32(o), flags: r.u32(o + 4), offset: r.u64(o + 8), vaddr: r.u64(o + 16), filesz: r.u64(o + 32), memsz: r.u64(o + 40) });
  }
  return out;
}

function readSections(r: ElfReader): ElfSection[] {
  const shoff = r.u64(40);
  const shentsize = r.u16(58);
  if (shoff === 0) return [];
  // Files with ≥ 0xff00 sections keep the real count and string-table index in section 0.
  let shnum = r.u16(60);
  let shstrndx = r.u16(62);
  if (shnum === 0) shnum = r.u64(shoff + 32);
  if (shstrndx === 0xffff) shstrndx = r.u32(shoff + 40);
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push({
      index: i,
      nameOff: r.u32(o),
      type: r.u32(o + 4),
      flags: r.u64(o + 8),
      addr: r.u64(o + 16),
      offset: r.u64(o + 24),
      size: r.u64(o + 32),
      link: r.u32(o + 40),
      info: r.u32(o + 44),
      entsize: r.u64(o + 56),
    });
  }
  const strtab = raw[shstrndx];
  return raw.map(({ nameOff, ...s }) => ({ ...s, name: strtab ? r.cstr(strtab.offset + nameOff) : '' }));
}

function invalid(source: string, why: string, cause?: unknown): LbcError {
  return new LbcError('LBC_ERR_ELF_INVALID', `${source}: ${why}`, { path: source }, { cause });
}
