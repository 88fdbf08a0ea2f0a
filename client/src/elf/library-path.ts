/**
 * Shared library name → path, the way the dynamic linker finds it: /etc/ld.so.cache first, then
 * the standard directories. Lets users write `libc:malloc` instead of a distro-specific path.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LbcError } from '@lbc/contract';

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const NEW_HEADER_SIZE = 48;
const NEW_ENTRY_SIZE = 24;
/** ld.so.cache flag bits naming the ABI of an entry (FLAG_X8664_LIB64, FLAG_AARCH64_LIB64). */
const ARCH_FLAGS: Record<string, number> = { x64: 0x0300, arm64: 0x0a00 };
const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

export interface LdCacheEntry {
  name: string;
  path: string;
  flags: number;
}

/** Entries of an ld.so.cache (new format, alone or after the old one), in the file's order. */
export function parseLdCache(buf: Buffer): LdCacheEntry[] {
  const start = buf.indexOf(NEW_MAGIC, 0, 'latin1');
  if (start < 0 || start + NEW_HEADER_SIZE > buf.length) return [];
  const nlibs = buf.readUInt32LE(start + 20);
  const cstr = (off: number) => {
    const end = buf.indexOf(0, start + off);
    return buf.toString('utf8', start + off, end < 0 ? buf.length : end);
  };
  const out: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const o = start + NEW_HEADER_SIZE + i * NEW_ENTRY_SIZE;
    if (o + NEW_ENTRY_SIZE > buf.length) break;
    out.push({ flags: buf.readInt32LE(o), name: cstr(buf.readUInt32LE(o + 4)), path: cstr(buf.readUInt32LE(o + 8)) });
  }
  return out;
}

let cached: LdCacheEntry[] | undefined;
function ldCache(): LdCacheEntry[] {
  if (!cached) {
    try {
      cached = parseLdCache(readFileSync('/etc/ld.so.cache'));
    } catch {
      cached = [];
    }
  }
  return cached;
}

/**
 * 'libc', 'c', 'libc.so.6' or a path → the library's path. A bare name matches the first
 * `NAME.so*` of this process's architecture, as `ldconfig -p` lists them.
 */
export function resolveLibrary(nameOrPath: string): string {
  if (nameOrPath.includes('/')) {
    if (existsSync(nameOrPath)) return nameOrPath;
    throw new LbcError('LBC_ERR_LIBRARY_NOT_FOUND', nameOrPath, { library: nameOrPath });
  }
  const wanted = nameOrPath.startsWith('lib') ? [nameOrPath] : [`lib${nameOrPath}`, nameOrPath];
  const matches = (file: string) => wanted.some((w) => file === w || file.startsWith(`${w}.so`));
  const archFlag = ARCH_FLAGS[process.arch];
  for (const e of ldCache()) {
    if (archFlag !== undefined && (e.flags & 0xff00) !== archFlag) continue;
    if (matches(e.name) && existsSync(e.path)) return e.path;
  }
  for (const dir of standardDirs()) {
    let files: string[];
    try {
      files = readdirSync(dir).sort();
    } catch {
      continue;
    }
    const hit = files.find((f) => wanted.includes(f)) ?? files.find(matches);
    if (hit) return join(dir, hit);
  }
  throw new LbcError('LBC_ERR_LIBRARY_NOT_FOUND', nameOrPath, { library: nameOrPath });
}

function standardDirs(): string[] {
  const triple = MULTIARCH[process.arch];
  const multi = triple ? [`/lib/${triple}`, `/usr/lib/${triple}`] : [];
  return [...multi, '/lib64', '/usr/lib64', '/lib', '/usr/lib'];
}
