/** File offset in a binary → the function containing it, for user-space stack frames. */
import { readFileSync, statSync } from 'node:fs';
import { ElfFile } from './elf-file.ts';
import { readSymbols, STT_FUNC, STT_GNU_IFUNC } from './elf-symbols.ts';

export interface SymbolHit {
  name: string;
  /** Bytes from the start of the function. */
  offset: number;
}

interface FunctionTable {
  elf: ElfFile;
  starts: Float64Array;
  ends: Float64Array;
  names: string[];
}

const tables = new Map<string, { stamp: string; table: FunctionTable }>();

function functionTable(binaryPath: string): FunctionTable {
  const st = statSync(binaryPath);
  const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const hit = tables.get(binaryPath);
  if (hit && hit.stamp === stamp) return hit.table;
  const elf = new ElfFile(readFileSync(binaryPath), binaryPath);
  const byStart = new Map<number, { end: number; name: string; rank: number }>();
  for (const s of readSymbols(elf)) {
    if ((s.type !== STT_FUNC && s.type !== STT_GNU_IFUNC) || s.value === 0) continue;
    const prev = byStart.get(s.value);
    const cand = { end: s.value + s.size, name: s.name, rank: aliasRank(s.name, s.defaultVersion) };
    if (!prev || cand.rank < prev.rank) byStart.set(s.value, cand);
  }
  const sorted = [...byStart.entries()].sort((a, b) => a[0] - b[0]);
  const table: FunctionTable = {
    elf,
    starts: Float64Array.from(sorted, ([start]) => start),
    ends: Float64Array.from(sorted, ([start, v], i) => (v.end > start ? v.end : (sorted[i + 1]?.[0] ?? start + 1))),
    names: sorted.map(([, v]) => v.name),
  };
  tables.set(binaryPath, { stamp, table });
  return table;
}

/**
 * Several names often alias one address (malloc, __libc_malloc, __malloc): prefer the default
 * version, then a public name, then the shorter one, as nm/perf users expect.
 */
function aliasRank(name: string, defaultVersion: boolean): number {
  return (defaultVersion ? 0 : 1 << 20) + (name.startsWith('_') ? 1 << 10 : 0) + Math.min(name.length, 1023);
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
  return { name: t.names[found], offset: vaddr - t.starts[found] };
}
