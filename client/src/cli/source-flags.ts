/** What `lbc compile` and `lbc run` share: the source file, its -D/-U/-I flags and the server. */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { LbcError, validateCflags } from '@lbc/contract';

export interface SourceFlags {
  define: string[];
  undefine: string[];
  include: string[];
  server?: string;
  /** --per-kernel: compile against the target kernel's own header, not the arch's newest. */
  perKernel?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function sourceOptions(command: Command): Command {
  return command
    .option('-D, --define <NAME[=VALUE]>', 'define a macro (repeatable)', collect, [])
    .option('-U, --undefine <NAME>', 'undefine a macro (repeatable)', collect, [])
    .option('-I, --include <dir>', 'also look for quoted #include files here (repeatable)', collect, [])
    .option('--server <url>', 'lbc service URL (default: LBC_SERVER or http://127.0.0.1:8080)')
    .option('--per-kernel', "compile against the target kernel's own header, not once per arch against the newest (CO-RE)");
}

/** The header the service is asked to compile against: its own choice unless --per-kernel. */
export function headerOf(flags: SourceFlags): { header?: 'kernel' } {
  return flags.perKernel ? { header: 'kernel' } : {};
}

/** `hello.bpf.c` → program name `hello`; the service names the main file `${name}.bpf.c` in diagnostics. */
export function programName(file: string): string {
  return basename(file).replace(/\.bpf\.c$/, '').replace(/\.c$/, '');
}

/** The source's absolute path and program name; LBC_ERR_SOURCE_NOT_FOUND when it is missing. */
export function sourceFile(file: string): { path: string; name: string } {
  const path = resolve(file);
  if (!existsSync(path)) throw new LbcError('LBC_ERR_SOURCE_NOT_FOUND', `${file} does not exist`, { path });
  return { path, name: programName(path) };
}

/** -D and -U flags as cflags, checked against the allow-list. */
export function cflagsOf(flags: SourceFlags): string[] {
  return validateCflags([...flags.define.map((d) => `-D${d}`), ...flags.undefine.map((u) => `-U${u}`)]);
}

export function includeDirsOf(flags: SourceFlags): string[] {
  return flags.include.map((d) => resolve(d));
}
