/**
 * The host side of a job's files: a fresh directory per container with `src/` (the program, mounted
 * read-only) and `out/` (the only place the sandbox may write). Inputs are written by the worker,
 * outputs are read back with symlinks refused and sizes capped.
 */
import { closeSync, constants, mkdirSync, openSync, promises as fs, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { validateIncludePaths } from '@lbc/contract';

export interface JobDir {
  root: string;
  src: string;
  out: string;
}

const SANDBOX_UID = 65534;

export async function createJobDir(parent: string): Promise<JobDir> {
  await fs.mkdir(parent, { recursive: true, mode: 0o700 });
  const root = await fs.mkdtemp(join(parent, 'job-'));
  const src = join(root, 'src');
  const out = join(root, 'out');
  await fs.mkdir(src, { mode: 0o755 });
  await fs.mkdir(out, { mode: 0o755 });
  await fs.chmod(root, 0o755);
  // The sandbox user must be able to write its output and nothing else.
  if (process.getuid?.() === 0) await fs.chown(out, SANDBOX_UID, SANDBOX_UID);
  else await fs.chmod(out, 0o777);
  return { root, src, out };
}

export async function removeJobDir(root: string): Promise<void> {
  await fs.rm(root, { recursive: true, force: true }).catch(() => {});
}

/**
 * Synchronous: a job's files are small (the request's own bound, 512 KB by default) and written
 * on the compile's path, where each threadpool round trip of open, write and close costs more
 * than the write.
 */
export function writeNew(path: string, text: string): void {
  // O_EXCL|O_NOFOLLOW: never write through something already there.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    writeFileSync(fd, text, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Writes `<mainFile>` and every include at its relative path under src/. */
export async function writeJobFiles(job: JobDir, mainFile: string, source: string, includes: Record<string, string>): Promise<void> {
  validateIncludePaths(Object.keys(includes), mainFile);
  writeNew(join(job.src, mainFile), source);
  for (const [path, text] of Object.entries(includes)) {
    mkdirSync(dirname(join(job.src, path)), { recursive: true, mode: 0o755 });
    writeNew(join(job.src, path), text);
  }
}

export type ReadObjectOutcome =
  | { ok: true; bytes: Buffer }
  | { ok: false; reason: 'missing' | 'not-regular' | 'too-large'; detail: string };

/** Reads the object the sandbox wrote, refusing symlinks, non-regular files and anything over `maxBytes`. */
export async function readObject(job: JobDir, file: string, maxBytes: number): Promise<ReadObjectOutcome> {
  return readSandboxOutput(join(job.out, file), maxBytes);
}

/** A file in a directory the sandbox wrote in, read as readObject reads an object (a link or a FIFO is refused, never followed or waited on). */
export async function readSandboxOutput(path: string, maxBytes: number): Promise<ReadObjectOutcome> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: 'missing', detail: 'the compiler wrote no object' };
    if (code === 'ELOOP') return { ok: false, reason: 'not-regular', detail: 'the output is a symbolic link; refused' };
    throw err;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { ok: false, reason: 'not-regular', detail: 'the output is not a regular file; refused' };
    if (stat.size > maxBytes) return { ok: false, reason: 'too-large', detail: `the object is ${stat.size} bytes, over the ${maxBytes}-byte limit` };
    const bytes = Buffer.alloc(stat.size);
    const { bytesRead } = await handle.read(bytes, 0, stat.size, 0);
    return { ok: true, bytes: bytes.subarray(0, bytesRead) };
  } finally {
    await handle.close();
  }
}
