import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { LbcError } from '@lbc/contract';
import { reportError } from './print-error.ts';

interface TraceFlags {
  show?: boolean;
  output?: string;
  stack?: boolean;
  kernel?: string;
  server?: string;
}

const EXAMPLES = `
probes (surftrace's syntax, one quoted argument each):
  'p wake_up_new_task comm=%0->comm'           kernel function entry, a member of the first argument
  'r do_filp_open pos=$retval->f_pos'          kernel function return
  'p do_filp_open+121 pos=X!(struct file *)%ax->f_pos'
  'e sched/sched_process_exec f:pid>1'         trace event with a filter
  'P ./app:parse s=%1->name' 'R libc:malloc p=X$retval'   user function entry / return
  'p __netif_receive_skb_core ip_src=@(struct iphdr *)l3%0->saddr f:ip_src==127.0.0.1'
`;

export function registerTrace(program: Command): void {
  program
    .command('trace')
    .description('trace kernel and user functions and trace events with surftrace one-liners (ftrace, no BPF compile)')
    .argument('<probes...>', 'probe lines, e.g. "p wake_up_new_task comm=%0->comm"')
    .option('-S, --show', 'print the tracefs commands only')
    .option('-o, --output <file>', 'save the commands as a shell script that cleans up after itself')
    .option('-s, --stack', 'print a kernel stack trace with every event')
    .option('--kernel <id>', "resolve types with a kernel the service knows (BTF sha256 or release); with -S or -o")
    .option('--server <url>', 'lbc service URL (for --kernel)')
    .addHelpText('after', EXAMPLES)
    .action(async (lines: string[], flags: TraceFlags) => {
      try {
        await trace(lines, flags);
      } catch (err) {
        reportError(err);
      }
    });
}

async function trace(lines: string[], flags: TraceFlags): Promise<void> {
  const t = await import('../trace/index.ts');
  const specs = lines.map((l) => t.parseProbe(l));
  const types = flags.kernel ? await farmTypes(flags.kernel, flags.server) : t.localKernelTypes();
  if (!types.local && !flags.show && !flags.output) {
    throw new LbcError('LBC_ERR_TRACE_UNSUPPORTED', `--kernel ${flags.kernel} translates for ${types.origin}, not this machine: add -S or -o FILE and run the commands there`);
  }
  let root: string | undefined;
  try {
    root = t.findTracefs();
  } catch (err) {
    if (!flags.show && !flags.output) throw err;
  }
  const names = { instance: `lbc-${process.pid}`, group: `lbc_${process.pid}`, stack: Boolean(flags.stack) };
  const env = t.translateEnv(types, names.group, types.local ? root : undefined);
  const plans = specs.map((s, i) => t.translateProbe(s, i, env));
  const shownRoot = root ?? '/sys/kernel/tracing';

  if (flags.show || flags.output) {
    const setup = t.setupOps(plans, names);
    if (flags.show) process.stdout.write(t.showCommands(setup, shownRoot, names.instance));
    if (flags.output) {
      writeFileSync(flags.output, t.shellScript(setup, t.teardownOps(plans, names), shownRoot, names, lines), { mode: 0o755 });
      process.stderr.write(`lbc trace: wrote ${flags.output} (run it as root; Ctrl-C removes its probes)\n`);
    }
    return;
  }

  const session = t.TraceSession.open(plans, names);
  const stop = () => session.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const swept = session.swept.instances.length + session.swept.probes.length;
  if (swept) process.stderr.write(`lbc trace: removed ${swept} probe(s)/instance(s) left by earlier runs\n`);
  process.stderr.write(`lbc trace: ${plans.length} probe(s) in ${session.root}/instances/${session.instance}, types from ${types.origin}; Ctrl-C to stop\n`);
  try {
    await session.stream((line) => process.stdout.write(`${line}\n`));
  } finally {
    session.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function farmTypes(id: string, server?: string) {
  const { ServiceClient } = await import('../transport/service-client.ts');
  const { farmKernelTypes } = await import('../trace/kernel-types.ts');
  const client = new ServiceClient({ server });
  try {
    return await farmKernelTypes(client, id);
  } finally {
    await client.close();
  }
}
