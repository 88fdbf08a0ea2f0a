/** User-space addresses of a process → function names from the mapped files' ELF symbols. */
import { existsSync } from 'node:fs';
import { symbolize } from '../elf/index.ts';
import { findMapping, readProcMaps, type Mapping } from './proc-maps.ts';

export interface UserSymbol {
  name: string | null;
  offset: number;
  /** The mapped file, e.g. /usr/lib/x86_64-linux-gnu/libc.so.6. */
  module?: string;
}

export class ProcessSymbols {
  private readonly maps: Mapping[];

  constructor(readonly pid: number) {
    this.maps = readProcMaps(pid);
  }

  lookup(addr: bigint): UserSymbol | null {
    const a = Number(addr);
    const m = findMapping(this.maps, a);
    if (!m) return null;
    if (!m.path.startsWith('/')) return { name: null, offset: a - m.start, module: m.path || undefined };
    const fileOffset = a - m.start + m.offset;
    // A process in another mount namespace sees its own files: read them through its root.
    const viaRoot = `/proc/${this.pid}/root${m.path}`;
    const file = existsSync(viaRoot) ? viaRoot : m.path;
    let hit = null;
    try {
      hit = symbolize(file, fileOffset);
    } catch {
      // Deleted or unreadable files still give the module and offset.
    }
    return hit ? { name: hit.name, offset: hit.offset, module: m.path } : { name: null, offset: fileOffset, module: m.path };
  }
}
