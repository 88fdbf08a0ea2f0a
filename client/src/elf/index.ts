export { ElfFile, type ElfSection, type ElfSegment } from './elf-file.ts';
export { readSymbols, type ElfSymbol } from './elf-symbols.ts';
export { resolveSymbolOffset, findSymbol } from './uprobe-offset.ts';
export { resolveLibrary, parseLdCache, type LdCacheEntry } from './library-path.ts';
export { symbolize, type SymbolHit } from './symbolize.ts';
