import type { Command } from 'commander';
import { reportError } from './print-error.ts';
import { formatTable } from './table.ts';

export function registerKernels(program: Command): void {
  program
    .command('kernels')
    .description('list the kernels the lbc service can compile for')
    .option('--server <url>', 'lbc service URL')
    .option('--json', 'print JSON')
    .action(async (flags: { server?: string; json?: boolean }) => {
      const { ServiceClient } = await import('../transport/service-client.ts');
      const client = new ServiceClient({ server: flags.server });
      try {
        const kernels = await client.listKernels();
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(kernels, null, 2)}\n`);
          return;
        }
        const rows = kernels.map((k) => [k.release, k.arch, k.distro, k.source, k.btfSha256.slice(0, 12), k.createdAt]);
        process.stdout.write(formatTable(['RELEASE', 'ARCH', 'DISTRO', 'SOURCE', 'BTF', 'ADDED'], rows));
      } catch (err) {
        reportError(err);
      } finally {
        await client.close();
      }
    });
}
