/** Symbol tables (.symtab and .dynsym) of an ELF64 file. */
import { SHT_DYNSYM, SHT_SYMTAB, type ElfFile, type ElfSection } from './elf-file.ts';

export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_GNU_IFUNC = 10;
const SHN_UNDEF = 0;
const SYM_SIZE = 24;
/** .gnu.version entries with this bit set are non-default versions (name@VER, not name@@VER). */
const VERSYM_HIDDEN = 0x8000;

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** STT_* (low 4 bits of st_info). */
  type: number;
  /** STB_* (high 4 bits of st_info). */
  bind: number;
  shndx: number;
  /** Which table it came from. */
  table: '.symtab' | '.dynsym';
  /** False for a hidden (non-default) symbol version such as memcpy@GLIBC_2.2.5. */
  defaultVersion: boolean;
}

export function readSymbols(elf: ElfFile): ElfSymbol[] {
  const out: ElfSymbol[] = [];
  for (const s of elf.sections) {
    if (s.type === SHT_SYMTAB || s.type === SHT_DYNSYM) out.push(...readTable(elf, s));
  }
  return out;
}

function readTable(elf: ElfFile, table: ElfSection): ElfSymbol[] {
  const r = elf.reader;
  const strtab = elf.sections[table.link];
  if (!strtab || table.offset + table.size > elf.buf.length) return [];
  const versym = table.type === SHT_DYNSYM ? elf.section('.gnu.version') : undefined;
  const count = Math.floor(table.size / (table.entsize || SYM_SIZE));
  const out: ElfSymbol[] = [];
  for (let i = 1; i < count; i++) {
    const o = table.offset + i * (table.entsize || SYM_SIZE);
    const info = r.u8(o + 4);
    const shndx = r.u16(o + 6);
    if (shndx === SHN_UNDEF) continue;
    const hidden = versym ? (r.u16(versym.offset + i * 2) & VERSYM_HIDDEN) !== 0 : false;
    out.push({
      name: r.cstr(strtab.offset + r.u32(o)),
      value: r.u64(o + 8),
      size: r.u64(o + 16),
      type: info & 0xf,
      bind: info >> 4,
      shndx,
      table: table.type === SHT_SYMTAB ? '.symtab' : '.dynsym',
      defaultVersion: !hidden,
    });
  }
  return out;
}
