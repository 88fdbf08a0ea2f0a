/**
 * A guest's file tree, gathered from the host and written as one initramfs archive. Executables
 * bring the shared libraries `ldd` names, at the same paths, so the host's own `node` (and an addon
 * linked against the host's libbpf) run unchanged in the guest.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, writeCpio, type CpioEntry } from './cpio.ts';

export class GuestRoot {
  private readonly entries = new Map<string, CpioEntry>();

  /** A file from the host, by its content (symlinks followed), at `guestPath` (default: the same path). */
  addHostFile(hostPath: string, guestPath = hostPath, mode?: number): this {
    const real = realpathSync(hostPath);
    const perm = mode ?? statSync(real).mode & 0o7777;
    return this.put({ path: strip(guestPath), mode: S_IFREG | perm, data: readFileSync(real) });
  }

  /** An executable or shared object and every library `ldd` lists for it (with the dynamic loader). */
  addHostBinary(hostPath: string, guestPath = hostPath): this {
    this.addHostFile(hostPath, guestPath);
    for (const lib of sharedLibraries(hostPath)) if (!this.entries.has(strip(lib))) this.addHostFile(lib);
    return this;
  }

  /** A host directory's files below `guestDir`; `.node` addons bring their libraries. */
  addHostTree(hostDir: string, guestDir: string): this {
    for (const name of readdirSync(hostDir)) {
      const from = join(hostDir, name);
      const to = posix.join(guestDir, name);
      if (statSync(from).isDirectory()) this.addHostTree(from, to);
      else if (name.endsWith('.node')) this.addHostBinary(from, to);
      else this.addHostFile(from, to);
    }
    return this;
  }

  /**
   * A host directory copied as it is below `guestDir`: symlinks stay symlinks, no `ldd` (a foreign
   * architecture's root). Paths (relative to `hostDir`) matching one of `skip` are left out.
   */
  addTreeAsIs(hostDir: string, guestDir: string, skip: readonly RegExp[] = [], relative = ''): this {
    for (const name of readdirSync(join(hostDir, relative))) {
      const rel = relative ? `${relative}/${name}` : name;
      if (skip.some((re) => re.test(rel))) continue;
      const from = join(hostDir, rel);
      const to = posix.join(guestDir, rel);
      const st = lstatSync(from);
      if (st.isSymbolicLink()) this.addSymlink(to, readlinkSync(from));
      else if (st.isDirectory()) (this.has(to) ? this : this.addDir(to)).addTreeAsIs(hostDir, guestDir, skip, rel);
      else if (st.isFile()) this.addHostFile(from, to, st.mode & 0o7777);
    }
    return this;
  }

  addText(guestPath: string, text: string | Buffer, mode = 0o644): this {
    return this.put({ path: strip(guestPath), mode: S_IFREG | mode, data: Buffer.from(text) });
  }

  addSymlink(guestPath: string, target: string): this {
    return this.put({ path: strip(guestPath), mode: S_IFLNK | 0o777, data: Buffer.from(target) });
  }

  addDir(guestPath: string, mode = 0o755): this {
    return this.put({ path: strip(guestPath), mode: S_IFDIR | mode });
  }

  addCharDevice(guestPath: string, major: number, minor: number, mode = 0o600): this {
    return this.put({ path: strip(guestPath), mode: S_IFCHR | mode, rdev: [major, minor] });
  }

  has(guestPath: string): boolean {
    return this.entries.has(strip(guestPath));
  }

  /** The archive, uncompressed (the kernel copies it without a decompressor: faster under TCG). */
  writeCpio(path: string): void {
    writeCpio(path, this.entries.values());
  }

  /** Parent directories first: the kernel's unpacker creates nothing it is not given. */
  private put(entry: CpioEntry): this {
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!this.entries.has(dir)) this.entries.set(dir, { path: dir, mode: S_IFDIR | 0o755 });
    }
    this.entries.delete(entry.path);
    this.entries.set(entry.path, entry);
    return this;
  }
}

function strip(path: string): string {
  return path.replace(/^\/+/, '');
}

/** Absolute library paths from `ldd` (the "=> /path" column and the loader's own line). */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}
