/**
 * Content-addressed files under <root>/<sha[0:2]>/<sha>. Writes are atomic (temp file, fsync,
 * rename, fsync of the directory) so a crash never leaves a half blob under its final name; reads
 * re-hash, and a blob whose bytes do not match its name is deleted and reported as missing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export type BlobRead = { status: 'ok'; bytes: Buffer } | { status: 'missing' } | { status: 'corrupt'; actualSha256: string };

export class BlobStore {
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  pathOf(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  /** Writes bytes under their own hash; returns the hash. Rewrites an existing blob (it may be corrupt). */
  put(bytes: Buffer): string {
    const sha256 = sha256Of(bytes);
    const dir = join(this.root, sha256.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    const temp = join(dir, `.${sha256}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = openSync(temp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, this.pathOf(sha256));
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
    // The rename is durable only once the directory entry is.
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return sha256;
  }

  read(sha256: string): BlobRead {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.pathOf(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
      throw err;
    }
    const actualSha256 = sha256Of(bytes);
    if (actualSha256 !== sha256) {
      this.delete(sha256);
      return { status: 'corrupt', actualSha256 };
    }
    return { status: 'ok', bytes };
  }

  has(sha256: string): boolean {
    try {
      return statSync(this.pathOf(sha256)).isFile();
    } catch {
      return false;
    }
  }

  delete(sha256: string): void {
    rmSync(this.pathOf(sha256), { force: true });
  }
}
