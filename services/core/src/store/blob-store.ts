/**
 * Content-addressed files under <root>/<sha[0:2]>/<sha>. Writes are atomic (temp file, fsync,
 * rename, fsync of the directory) so a crash never leaves a half blob under its final name; reads
 * re-hash, and a blob whose bytes do not match its name is deleted and reported as missing.
 * Large blobs (kernel packages, hundreds of MB) never pass through memory: they are received into
 * a file by the caller, hashed on the way, and adopted under their hash; verifyFile hashes a file
 * as a stream.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync, promises as fsp } from 'node:fs';
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

  /** A name for a file being received into this store (same directory as its final name, so adopt() is a rename). */
  incomingPath(sha256: string): string {
    const dir = join(this.root, sha256.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    return join(dir, `.${sha256}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  }

  /**
   * Takes a complete file whose sha256 the caller computed while writing it, under that name
   * (moved, or copied when it lies on another file system). The file is gone from `file` after.
   */
  async adopt(file: string, sha256: string): Promise<string> {
    const final = this.pathOf(sha256);
    await fsp.mkdir(join(this.root, sha256.slice(0, 2)), { recursive: true });
    const handle = await fsp.open(file, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fsp.rename(file, final);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      const temp = this.incomingPath(sha256);
      try {
        await fsp.copyFile(file, temp);
        const copy = await fsp.open(temp, 'r+');
        await copy.sync().finally(() => copy.close());
        await fsp.rename(temp, final);
      } finally {
        await fsp.rm(temp, { force: true });
        await fsp.rm(file, { force: true });
      }
    }
    const dir = await fsp.open(join(this.root, sha256.slice(0, 2)), 'r');
    await dir.sync().finally(() => dir.close());
    return final;
  }

  /** Whether the file under a hash holds those bytes, read as a stream; a corrupt one is deleted. */
  async verifyFile(sha256: string): Promise<BlobFileCheck> {
    const path = this.pathOf(sha256);
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of (await fsp.open(path, 'r')).createReadStream()) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
      throw err;
    }
    const actualSha256 = hash.digest('hex');
    if (actualSha256 !== sha256) {
      this.delete(sha256);
      return { status: 'corrupt', actualSha256 };
    }
    return { status: 'ok', path, size };
  }
}

export type BlobFileCheck = { status: 'ok'; path: string; size: number } | { status: 'missing' } | { status: 'corrupt'; actualSha256: string };
