/** Symbol → file offset, which is what the kernel's uprobe interface wants. */
import { readFileSync } from 'node:fs';
import { LbcError } from '@lbc/contract';
import { ElfFile, ET_REL } from './elf-file.ts';
import { readSymbols, STT_FUNC, STT_GNU_IFUNC, STT_OBJECT, type ElfSymbol } from './elf-symbols.ts';

/** Picks the definition a dynamic linker would bind to: functions first, the default version first. */
export function findSymbol(elf: ElfFile, symbol: string): ElfSymbol | undefined {
  const base = symbol.split('@')[0];
  const candidates = readSymbols(elf).filter(
    (s) => s.name === base && (s.type === STT_FUNC || s.type === STT_GNU_IFUNC || s.type === STT_OBJECT),
  );
  const rank = (s: ElfSymbol) => (s.type === STT_OBJECT ? 2 : 0) + (s.defaultVersion ? 0 : 1);
  return candidates.sort((a, b) => rank(a) - rank(b))[0];
}

/** File offset of `symbol` in the ELF file at `binaryPath` (for attachUprobe). */
export function resolveSymbolOffset(binaryPath: string, symbol: string): number {
  const elf = new ElfFile(readFileSync(binaryPath), binaryPath);
  const sym = findSymbol(elf, symbol);
  if (!sym) throw new LbcError('LBC_ERR_SYMBOL_NOT_FOUND', `${symbol} in ${binaryPath}`, { binary: binaryPath, symbol });
  const offset = symbolFileOffset(elf, sym);
  if (offset === null) {
    throw new LbcError('LBC_ERR_SYMBOL_NOT_FOUND', `${symbol} in ${binaryPath} is not in a loadable segment`, { binary: binaryPath, symbol });
  }
  return offset;
}

export function symbolFileOffset(elf: ElfFile, sym: ElfSymbol): number | null {
  if (elf.type === ET_REL) {
    // Relocatable objects have no segments: st_value is relative to its section.
    const sec = elf.sections[sym.shndx];
    return sec ? sec.offset + sym.value : null;
  }
  const viaSegment = elf.vaddrToOffset(sym.value);
  if (viaSegment !== null) return viaSegment;
  const sec = elf.sections[sym.shndx];
  return sec ? sym.value - sec.addr + sec.offset : null;
}
