import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { LbcError } from '@lbc/contract';
import { cflagsOf, includeDirsOf, sourceFile, sourceOptions, type SourceFlags } from './source-flags.ts';
import { collectLocalIncludes } from '../source/local-includes.ts';
import { startSpinner } from './spinner.ts';
import { reportError } from './print-error.ts';
import { verifySetupOf, verifyWorkloadOf, type VerifySetupFlags } from './verify-flags.ts';
import { failureDetails, verdictTable, verifyProgressText } from './verify-format.ts';

interface VerifyFlags extends SourceFlags, VerifySetupFlags {
  kernel: string[];
  allBootable?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerVerify(program: Command): void {
  sourceOptions(program.command('verify'))
    .description('compile a program for each kernel, boot the kernels in the service\'s lab and load and attach it there; exit status 1 when any kernel fails')
    .argument('<file>', 'BPF C source, e.g. prog.bpf.c')
    .option('-k, --kernel <id>', 'a bootable kernel: BTF sha256, unique prefix or release (repeatable)', collect, [])
    .option('--all-bootable', 'every bootable kernel the service has')
    .option('--set <NAME=VALUE>', 'set a global (const volatile or .data/.bss) before load (repeatable)', collect, [])
    .option('--autoload <PROG=on|off>', 'turn a program on or off before load (repeatable)', collect, [])
    .option('--max-entries <MAP=N>', 'size a map before load (repeatable)', collect, [])
    .option('--no-fallbacks', 'keep both sides of fentry/kprobe twins (as fallbacks: false)')
    .option('--workload <command>', "run this in the guest while the programs are attached, e.g. 'cat /etc/hostname'")
    .option('--repeat <N>', 'run the workload N times')
    .option('--json', 'print the verdicts as JSON')
    .action(async (file: string, flags: VerifyFlags) => {
      try {
        await verifyFile(file, flags);
      } catch (err) {
        reportError(err);
      }
    });
}

async function verifyFile(file: string, flags: VerifyFlags): Promise<void> {
  const { path, name } = sourceFile(file);
  const source = readFileSync(path, 'utf8');
  const cflags = cflagsOf(flags);
  const includes = collectLocalIncludes(source, [dirname(path), ...includeDirsOf(flags)]);
  const setup = verifySetupOf(flags);
  const workload = verifyWorkloadOf(flags);
  if (flags.kernel.length === 0 && !flags.allBootable) throw new LbcError('LBC_ERR_BAD_REQUEST', 'name the kernels to verify on: --kernel ID (repeatable) or --all-bootable (lbc kernels lists them; BOOT yes)');
  if (flags.kernel.length > 0 && flags.allBootable) throw new LbcError('LBC_ERR_BAD_REQUEST', 'give either --kernel or --all-bootable, not both');

  const { ServiceClient } = await import('../transport/service-client.ts');
  const client = new ServiceClient({ server: flags.server });
  const spinner = startSpinner(`${name}: verifying on ${client.server}`);
  try {
    const result = await client.verify(
      {
        name,
        source,
        ...(Object.keys(includes).length ? { includes } : {}),
        ...(cflags.length ? { cflags } : {}),
        ...(flags.allBootable ? { allBootable: true } : { kernels: flags.kernel }),
        ...(setup ? { setup } : {}),
        ...(workload ? { workload } : {}),
      },
      { onProgress: (p, state) => (spinner.text = verifyProgressText(name, p, state)) },
    );
    spinner.stop();
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(verdictTable(result) + failureDetails(result));
    // CI pipelines: any kernel that did not pass fails the step.
    if (!result.ok) process.exitCode = 1;
  } finally {
    spinner.stop();
    await client.close();
  }
}
