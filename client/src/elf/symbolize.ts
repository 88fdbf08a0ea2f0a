/** File offset in a binary → the function containing it, for user-space stack frames. */
import { readFileSync, statSync } from 'node:fs';
import { ElfFile, SHT_DYNSYM, SHT_SYMTAB } from './elf-file.ts';
import { STT_FUNC, STT_GNU_IFUNC } from './elf-symbols.ts';

export interface SymbolHit {
  name: string;
  /** Bytes from the start of the function. */
  offset: number;
}

/** Function symbols sorted by address; names stay as file offsets until a lookup needs one. */
interface FunctionTable {
  elf: ElfFile;
  starts: Float64Array;
  ends: Float64Array;
  nameOffsets: Float64Array;
}

const tables = new Map<string, { stamp: string; table: FunctionTable }>();
const SYM_SIZE = 24;
const VERSYM_HIDDEN = 0x8000;

/**
 * Several names often alias one address (malloc, __libc_malloc, __malloc): prefer the default
 * version, then a public name, then the shorter one, as nm/perf users expect.
 */
function aliasRank(buf: Buffer, nameOff: number, defaultVersion: boolean): number {
  const len = Math.min(buf.indexOf(0, nameOff) - nameOff, 1023);
  return (defaultVersion ? 0 : 1 << 20) + (buf[nameOff] === 0x5f ? 1 << 10 : 0) + len;
}

/** Reads symbol tables straight into arrays: binaries like node carry ~10^5 symbols. */
function buildTable(elf: ElfFile): FunctionTable {
  const r = elf.reader;
  const byStart = new Map<number, { end: number; nameOff: number; rank: number }>();
  for (const table of elf.sections) {
    if (table.type !== SHT_SYMTAB && table.type !== SHT_DYNSYM) continue;
    const strtab = elf.sections[table.link];
    if (!strtab || table.offset + table.size > elf.buf.length) continue;
    const versym = table.type === SHT_DYNSYM ? elf.section('.gnu.version') : undefined;
    const entsize = table.entsize || SYM_SIZE;
    const count = Math.floor(table.size / entsize);
    for (let i = 1; i < count; i++) {
      const o = table.offset + i * entsize;
      const type = r.u8(o + 4) & 0xf;
      if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || r.u16(o + 6) === 0) continue;
      const value = r.u64(o + 8);
      if (value === 0) continue;
      const nameOff = strtab.offset + r.u32(o);
      const hidden = versym ? (r.u16(versym.offset + i * 2) & VERSYM_HIDDEN) !== 0 : false;
      const rank = aliasRank(elf.buf, nameOff, !hidden);
      const prev = byStart.get(value);
      if (!prev || rank < prev.rank) byStart.set(value, { end: value + r.u64(o + 16), nameOff, rank });
    }
  }
  const starts = Float64Array.from(byStart.keys()).sort();
  const ends = new Float64Array(starts.length);
  const nameOffsets = new Float64Array(starts.length);
  starts.forEach((start, i) => {
    const s = byStart.get(start)!;
    // Size-less symbols (hand-written assembly) run to the next symbol.
    ends[i] = s.end > start ? s.end : (starts[i + 1] ?? start + 1);
    nameOffsets[i] = s.nameOff;
  });
  return { elf, starts, ends, nameOffsets };
}

function functionTable(binaryPath: string): FunctionTable {
  const st = statSync(binaryPath);
  const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const hit = tables.get(binaryPath);
  if (hit && hit.stamp === stamp) return hit.table;
  const table = buildTable(new ElfFile(readFileSync(binaryPath), binaryPath));
  tables.set(binaryPath, { stamp, table });
  return table;
}

/**
 * The function of `binaryPath` that contains `fileOffset` (an address in a process minus its
 * mapping's start plus the mapping's file offset), or null when no symbol covers it.
 */
export function symbolize(binaryPath: string, fileOffset: number): SymbolHit | null {
  const t = functionTable(binaryPath);
  const vaddr = t.elf.offsetToVaddr(fileOffset) ?? fileOffset;
  let lo = 0;
  let hi = t.starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t.starts[mid] <= vaddr) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0 || vaddr >= t.ends[found]) return null;
  return { name: t.elf.reader.cstr(t.nameOffsets[found]), offset: vaddr - t.starts[found] };
}
