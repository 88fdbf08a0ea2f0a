/**
 * The initramfs format: cpio "newc" (SVR4, no CRC), as the kernel's init/initramfs.c reads it. Each
 * entry is a 110-byte ASCII header, the NUL-terminated name and the data, both padded to 4 bytes.
 * The kernel unpacks concatenated archives (compressed or not) one after the other, so a guest's
 * initramfs is a shared base plus a small archive of its own.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface CpioEntry {
  /** Path inside the archive, without a leading slash. */
  path: string;
  /** File type and permission bits (S_IFREG | 0o755 ...). */
  mode: number;
  /** Regular files: the bytes; symlinks: the target. */
  data?: Buffer;
  /** Device nodes: [major, minor]. */
  rdev?: [number, number];
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const padding = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

function header(entry: CpioEntry, ino: number): Buffer {
  const name = Buffer.from(`${entry.path}\0`);
  const size = entry.data?.length ?? 0;
  const fields = [ino, entry.mode, 0, 0, (entry.mode & 0o170000) === S_IFDIR ? 2 : 1, 0, size, 0, 0, entry.rdev?.[0] ?? 0, entry.rdev?.[1] ?? 0, name.length, 0];
  const head = Buffer.from(`070701${fields.map(hex8).join('')}`);
  return Buffer.concat([head, name, padding(head.length + name.length)]);
}

/** Writes the entries, in order, and the trailer to `path` (uncompressed). */
export function writeCpio(path: string, entries: Iterable<CpioEntry>): void {
  const fd = openSync(path, 'w');
  try {
    let ino = 1;
    for (const entry of [...entries, { path: 'TRAILER!!!', mode: 0 }]) {
      writeSync(fd, header(entry, entry.path === 'TRAILER!!!' ? 0 : ino++));
      if (entry.data && entry.data.length > 0) {
        writeSync(fd, entry.data);
        writeSync(fd, padding(entry.data.length));
      }
    }
  } finally {
    closeSync(fd);
  }
}
