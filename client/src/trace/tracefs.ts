/** Where tracefs is and how to read and write it, turning the kernel's errnos into lbc errors. */
import { appendFileSync, existsSync, mkdirSync, read, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { LbcError } from '@lbc/contract';
import type { TracefsOp } from './tracefs-ops.ts';

const ROOTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

export function findTracefs(): string {
  const root = ROOTS.find((r) => existsSync(`${r}/instances`));
  if (!root) throw new LbcError('LBC_ERR_TRACEFS', 'tracefs is not mounted at /sys/kernel/tracing', { roots: ROOTS });
  return root;
}

export function perform(root: string, op: TracefsOp): void {
  const path = `${root}/${op.path}`;
  try {
    switch (op.op) {
      case 'mkdir': mkdirSync(path); break;
      case 'rmdir': rmdirSync(path); break;
      case 'write': writeFileSync(path, op.text); break;
      case 'append': appendFileSync(path, `${op.text}\n`); break;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const rejected = e.code === 'EINVAL' || e.code === 'ENOENT';
    const reason = rejected ? (op.path.endsWith('/filter') ? filterError(path) : lastErrorLog(root)) : undefined;
    const what = 'text' in op ? `writing '${op.text}' to ${path}` : `${op.op} ${path}`;
    throw new LbcError('LBC_ERR_TRACEFS', `${what}: ${e.code ?? e.message}${reason ? `\n  the kernel says: ${reason}` : ''}`, { path, errno: e.code }, { cause: err });
  }
}

/** A rejected filter leaves the kernel's parse error in the filter file itself ("parse_error: Too many '('"). */
function filterError(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith('parse_error'));
  } catch {
    return undefined;
  }
}

/** The newest entry of tracing/error_log: the kernel's own reason for a rejected probe or filter. */
function lastErrorLog(root: string): string | undefined {
  try {
    const lines = readFileSync(`${root}/error_log`, 'utf8').trimEnd().split('\n');
    let at = lines.length - 1;
    while (at >= 0 && !/^\[\s*\d+\.\d+\]/.test(lines[at]!)) at--;
    return at < 0 ? undefined : lines.slice(at).map((l) => l.trim()).join(' | ');
  } catch {
    return undefined;
  }
}

/**
 * One read of a trace_pipe opened O_NONBLOCK: the bytes read, -1 when nothing is there yet, 0 once
 * `closed()` says the reader was closed under it (its fd gone).
 */
export function readPipeChunk(fd: number, buf: Buffer, closed: () => boolean): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    read(fd, buf, 0, buf.length, null, (err, bytes) => (err ? (err.code === 'EAGAIN' ? resolve(-1) : reject(err)) : resolve(bytes))),
  ).catch((err) => {
    if (closed()) return 0;
    throw err;
  });
}
