import { basename } from 'node:path';

/** `hello.bpf.c` → program name `hello`; the service names the main file `${name}.bpf.c` in diagnostics. */
export function programName(file: string): string {
  return basename(file).replace(/\.bpf\.c$/, '').replace(/\.c$/, '');
}
