import type { Command } from 'commander';
import type { Arch, KernelInfo } from '@lbc/contract';
import { reportError } from './print-error.ts';
import { formatTable } from './table.ts';

interface KernelsFlags {
  server?: string;
  json?: boolean;
  distro?: string;
  release?: string;
  arch?: string;
}

// BOOT: the kernel set holds a boot image (ingested from a kernel image package), so a VM can run it.
const table = (kernels: KernelInfo[]) =>
  formatTable(
    ['RELEASE', 'ARCH', 'DISTRO', 'SOURCE', 'BOOT', 'BTF', 'ADDED'],
    kernels.map((k) => [k.release, k.arch, k.distro, k.source, k.bootable ? 'yes' : '-', k.btfSha256.slice(0, 12), k.createdAt]),
  );

function noKernelText(flags: KernelsFlags): string {
  const filters = [flags.distro && `distro ${flags.distro}`, flags.release && `release ${flags.release}`, flags.arch && `arch ${flags.arch}`].filter(Boolean);
  if (filters.length > 0) return `no kernel with ${filters.join(', ')}${flags.release ? ', nor one near it' : ''}`;
  return "the service knows no kernel yet: lbc struct, func, type or compile on a machine uploads that machine's kernel; lbc-admin ingest adds a distro kernel package";
}

export function registerKernels(program: Command): void {
  program
    .command('kernels')
    .description('list the kernels the lbc service can compile for')
    .option('--server <url>', 'lbc service URL')
    .option('--distro <id>', 'only this distro (ID from /etc/os-release: debian, rhel, ...)')
    .option('--release <release>', 'only this release; * matches any run of characters (6.1.0-*)')
    .option('--arch <arch>', 'only this architecture: x86_64 or aarch64')
    .option('--json', 'print JSON')
    .action(async (flags: KernelsFlags) => {
      const { CatalogClient } = await import('../transport/catalog-client.ts');
      const client = new CatalogClient({ server: flags.server });
      try {
        // An arch the service does not know is its LBC_ERR_BAD_REQUEST, naming the allowed ones.
        const list = await client.kernels({ distro: flags.distro, release: flags.release, arch: flags.arch as Arch | undefined });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(list.nearest ? list : list.kernels, null, 2)}\n`);
          return;
        }
        if (list.kernels.length > 0) {
          process.stdout.write(table(list.kernels));
          return;
        }
        if (list.nearest && list.nearest.length > 0) {
          process.stderr.write(`no kernel with release ${flags.release}; the nearest the service knows:\n`);
          process.stdout.write(table(list.nearest));
          process.exitCode = 1;
          return;
        }
        process.stdout.write(table([]));
        process.stderr.write(`${noKernelText(flags)}\n`);
        // A release asked for by name and not there is a failure; an empty listing is not.
        if (flags.release) process.exitCode = 1;
      } catch (err) {
        reportError(err);
      } finally {
        await client.close();
      }
    });
}
