import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { programName } from './program-name.ts';
import type { Command } from 'commander';
import { LbcError, validateCflags } from '@lbc/contract';
import { compileForTarget } from '../target/compile-for-target.ts';
import { collectLocalIncludes } from '../source/local-includes.ts';
import { writeFileAtomic } from '../cache/atomic-write.ts';
import { targetFromFlags, type TargetFlags } from './target-flags.ts';
import { progressText, startSpinner } from './spinner.ts';
import { reportError } from './print-error.ts';

interface CompileFlags extends TargetFlags {
  define: string[];
  undefine: string[];
  include: string[];
  output?: string;
  server?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('compile a BPF C file on the lbc service (pylcc: coolbpf -f FILE -o)')
    .argument('<file>', 'BPF C source, e.g. hello.bpf.c')
    .option('--release <release>', 'target kernel release (default: the running kernel)')
    .option('--arch <arch>', 'target architecture: x86_64 or aarch64')
    .option('--distro <id>', 'target distro ID from /etc/os-release')
    .option('--btf-sha <sha256>', 'sha256 of the target kernel\'s BTF')
    .option('-D, --define <NAME[=VALUE]>', 'define a macro (repeatable)', collect, [])
    .option('-U, --undefine <NAME>', 'undefine a macro (repeatable)', collect, [])
    .option('-I, --include <dir>', 'also look for quoted #include files here (repeatable)', collect, [])
    .option('-o, --output <file>', 'object file to write (default: NAME.bpf.o beside the source)')
    .option('--server <url>', 'lbc service URL (default: LBC_SERVER or http://127.0.0.1:8080)')
    .action(async (file: string, flags: CompileFlags) => {
      try {
        await compileFile(file, flags);
      } catch (err) {
        reportError(err);
      }
    });
}

async function compileFile(file: string, flags: CompileFlags): Promise<void> {
  const path = resolve(file);
  if (!existsSync(path)) throw new LbcError('LBC_ERR_SOURCE_NOT_FOUND', `${file} does not exist`, { path });
  const name = programName(path);
  const source = readFileSync(path, 'utf8');
  const cflags = validateCflags([...flags.define.map((d) => `-D${d}`), ...flags.undefine.map((u) => `-U${u}`)]);
  const includes = collectLocalIncludes(source, [dirname(path), ...flags.include.map((d) => resolve(d))]);
  const target = targetFromFlags(flags);
  const output = resolve(flags.output ?? `${dirname(path)}/${name}.bpf.o`);

  // Imported here so commands that need no service (run from cache, inspect) never load the HTTP stack.
  const { ServiceClient } = await import('../transport/service-client.ts');
  const client = new ServiceClient({ server: flags.server });
  const spinner = startSpinner(`${name}: compiling on ${client.server}`);
  try {
    const { result, uploadedBtf } = await compileForTarget(client, { name, source, includes, cflags }, target, {
      onProgress: (p, state) => {
        spinner.text = progressText(name, p, state);
      },
    });
    const object = await client.fetchVerified(result.artifact.url, result.artifact.sha256);
    writeFileAtomic(output, object);
    spinner.stop();
    if (result.warnings) process.stderr.write(result.warnings.endsWith('\n') ? result.warnings : `${result.warnings}\n`);
    const notes = [result.cached ? 'cached' : 'compiled', uploadedBtf ? 'kernel BTF uploaded' : '', `${result.kernel.release} ${result.kernel.arch}`];
    process.stderr.write(`wrote ${output} (${object.length} bytes, ${notes.filter(Boolean).join(', ')})\n`);
  } catch (err) {
    spinner.stop();
    throw err;
  } finally {
    await client.close();
  }
}
