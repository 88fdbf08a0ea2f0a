import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CompileResult } from '@lbc/contract';
import { cflagsOf, headerOf, includeDirsOf, sourceFile, sourceOptions, type SourceFlags } from './source-flags.ts';
import { compileForTarget } from '../obtain/compile-for-target.ts';
import { collectLocalIncludes } from '../source/local-includes.ts';
import { writeFileAtomic } from '../cache/atomic-write.ts';
import { targetFromFlags, type TargetFlags } from './target-flags.ts';
import { progressText, startSpinner } from './spinner.ts';
import { reportError } from './print-error.ts';
import { exitWhenFlushed } from './exit-when-flushed.ts';

interface CompileFlags extends TargetFlags, SourceFlags {
  output?: string;
}

export function registerCompile(program: Command): void {
  sourceOptions(program.command('compile'))
    .description('compile a BPF C file on the lbc service (pylcc: coolbpf -f FILE -o)')
    .argument('<file>', 'BPF C source, e.g. hello.bpf.c')
    .option('--release <release>', 'target kernel release (default: the running kernel)')
    .option('--arch <arch>', 'target architecture: x86_64 or aarch64')
    .option('--distro <id>', 'target distro ID from /etc/os-release')
    .option('--btf-sha <sha256>', 'sha256 of the target kernel\'s BTF')
    .option('-o, --output <file>', 'object file to write (default: NAME.bpf.o beside the source)')
    .action(async (file: string, flags: CompileFlags) => {
      try {
        await compileFile(file, flags);
      } catch (err) {
        reportError(err);
      }
      exitWhenFlushed();
    });
}

async function compileFile(file: string, flags: CompileFlags): Promise<void> {
  const { path, name } = sourceFile(file);
  const source = readFileSync(path, 'utf8');
  const cflags = cflagsOf(flags);
  const includes = collectLocalIncludes(source, [dirname(path), ...includeDirsOf(flags)]);
  const target = targetFromFlags(flags);
  const output = resolve(flags.output ?? `${dirname(path)}/${name}.bpf.o`);

  // Imported here so commands that need no service (run from cache, inspect) never load the HTTP stack.
  const { ServiceClient } = await import('../transport/service-client.ts');
  const client = new ServiceClient({ server: flags.server });
  const spinner = startSpinner(`${name}: compiling on ${client.server}`);
  try {
    const { result, uploadedBtf } = await compileForTarget(client, { name, source, includes, cflags, ...headerOf(flags) }, target, {
      onProgress: (p, state) => {
        spinner.text = progressText(name, p, state);
      },
      // A cache hit's object comes in the compile's answer: one round trip, not two.
      includeObject: true,
    });
    const object = await client.compiledObject(result);
    // Like clang -o: renamed into place whole, not fsynced (the service keeps the object).
    writeFileAtomic(output, object, { durable: false });
    spinner.stop();
    if (result.warnings) process.stderr.write(result.warnings.endsWith('\n') ? result.warnings : `${result.warnings}\n`);
    const notes = [result.cached ? 'cached' : 'compiled', uploadedBtf ? 'kernel BTF uploaded' : '', `${result.kernel.release} ${result.kernel.arch}`];
    process.stderr.write(`wrote ${output} (${object.length} bytes, ${notes.filter(Boolean).join(', ')})\n`);
    const header = headerNote(result);
    if (header) process.stderr.write(`  ${header}\n`);
  } catch (err) {
    spinner.stop();
    throw err;
  } finally {
    // Not awaited: the process exits once its output is written (exitWhenFlushed), which closes the
    // socket; waiting for the pool to wind down first cost every cache hit a few ms.
    void client.close();
  }
}

/** Which header the object was built against, when it is not simply the target's own. */
function headerNote(result: CompileResult): string {
  const { header, kernel } = result;
  if (!header) return '';
  if (header.mode === 'core') return header.btfSha256 === kernel.btfSha256 ? '' : `CO-RE: built against the ${header.release} header, one object for every ${header.arch} kernel`;
  return header.reason ? `built against the kernel's own header: ${header.reason}` : '';
}
