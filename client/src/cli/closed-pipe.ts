/**
 * `lbc struct task_struct --json | head`: once the reader is gone, the CLI ends quietly, as Unix
 * tools do, instead of dying on an unhandled EPIPE with a stack trace.
 */
export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}
