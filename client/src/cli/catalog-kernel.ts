/**
 * The kernel a catalog command asks about: --kernel (sha256, prefix or release), else this
 * machine's kernel by its BTF hash. A service that does not know this machine's kernel gets its
 * BTF uploaded once, as `lbc compile` does, and the question is asked again.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { LbcError, isLbcError } from '@lbc/contract';
import type { CatalogClient } from '../transport/catalog-client.ts';
import { reportError } from './print-error.ts';

export interface CatalogFlags {
  kernel?: string;
  server?: string;
  json?: boolean;
}

export function catalogOptions(command: Command): Command {
  return command
    .option('-k, --kernel <id>', "kernel: BTF sha256, a unique prefix of one, or a release (default: this machine's kernel)")
    .option('--server <url>', 'lbc service URL')
    .option('--json', 'print JSON');
}

export async function withCatalog<T>(flags: CatalogFlags, ask: (client: CatalogClient, kernel: string) => Promise<T>): Promise<T> {
  const { CatalogClient } = await import('../transport/catalog-client.ts');
  const client = new CatalogClient({ server: flags.server });
  try {
    if (flags.kernel) return await ask(client, flags.kernel);
    const { detectTarget } = await import('../target/detect-target.ts');
    const target = detectTarget();
    if (!target.btfSha256 || !target.btfPath) {
      throw new LbcError('LBC_ERR_KERNEL_DETECT', `${target.release} has no /sys/kernel/btf/vmlinux; pass --kernel with a kernel the service knows (lbc kernels)`);
    }
    try {
      return await ask(client, target.btfSha256);
    } catch (err) {
      if (!isLbcError(err, 'LBC_ERR_KERNEL_UNKNOWN')) throw err;
    }
    const { ServiceClient } = await import('../transport/service-client.ts');
    const service = new ServiceClient({ server: flags.server });
    try {
      await service.uploadKernel(target.btfSha256, readFileSync(target.btfPath), { release: target.release, arch: target.arch, ...(target.distro ? { distro: target.distro } : {}) });
    } finally {
      await service.close();
    }
    return await ask(client, target.btfSha256);
  } finally {
    await client.close();
  }
}

/** Prints the error as every lbc command does, plus the catalog's "did you mean" names. */
export function reportCatalogError(err: unknown): void {
  reportError(err);
  const suggestions = isLbcError(err) ? err.details?.suggestions : undefined;
  if (Array.isArray(suggestions) && suggestions.length > 0 && typeof suggestions[0] === 'string') {
    process.stderr.write(`  did you mean: ${suggestions.join(', ')}\n`);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
