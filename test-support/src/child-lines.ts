import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/** A child's stdout as complete lines, as they come, and its stderr so far. */
export function childLines(child: ChildProcessWithoutNullStreams): { out: string[]; err: () => string } {
  const out: string[] = [];
  let buf = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    out.push(...parts);
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { out, err: () => err };
}
