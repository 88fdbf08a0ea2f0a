/**
 * The kernel a catalog command asks about: --kernel (sha256, prefix or release), else this
 * machine's kernel by its BTF hash. A service that does not know this machine's kernel gets its
 * BTF uploaded once (kernel-upload.ts), as `lbc compile` does, and the question is asked again.
 */
import type { Command } from 'commander';
import { LbcError, isLbcError } from '@lbc/contract';
import type { CatalogClient } from '../transport/catalog-client.ts';
import { KERNEL_BTF_ENV, thisKernel, uploadThisKernel } from '../obtain/kernel-upload.ts';
import { reportError } from './print-error.ts';

export interface CatalogFlags {
  kernel?: string;
  server?: string;
  json?: boolean;
}

export function catalogOptions(command: Command): Command {
  return command
    .option('-k, --kernel <id>', `kernel: BTF sha256, a unique prefix of one, or a release (default: this machine's kernel, by its BTF: ${KERNEL_BTF_ENV} or /sys/kernel/btf/vmlinux)`)
    .option('--server <url>', 'lbc service URL')
    .option('--json', 'print JSON');
}

// What the catalog routes accept as :id; checked here so a typo is named as the flag, not as a URL parameter.
const KERNEL_ID = /^[A-Za-z0-9._+~-]{4,128}$/;

function kernelId(value: string): string {
  const id = value.trim();
  if (KERNEL_ID.test(id)) return id;
  throw new LbcError('LBC_ERR_BAD_REQUEST', `--kernel ${JSON.stringify(value)}: give a kernel's BTF sha256 (or its first 4+ hex digits) or its release, 4 to 128 characters of A-Z a-z 0-9 . _ + ~ - (lbc kernels lists them)`);
}

const notice = (line: string) => void process.stderr.write(`${line}\n`);

export async function withCatalog<T>(flags: CatalogFlags, ask: (client: CatalogClient, kernel: string) => Promise<T>): Promise<T> {
  const { CatalogClient } = await import('../transport/catalog-client.ts');
  const client = new CatalogClient({ server: flags.server });
  try {
    if (flags.kernel !== undefined) return await ask(client, kernelId(flags.kernel));
    const kernel = thisKernel();
    try {
      return await ask(client, kernel.btfSha256);
    } catch (err) {
      if (!isLbcError(err, 'LBC_ERR_KERNEL_UNKNOWN')) throw err;
    }
    const { ServiceClient } = await import('../transport/service-client.ts');
    const service = new ServiceClient({ server: flags.server });
    try {
      await uploadThisKernel(service, kernel, notice);
    } finally {
      await service.close();
    }
    return await ask(client, kernel.btfSha256);
  } finally {
    await client.close();
  }
}

interface KernelSuggestion {
  btfSha256: string;
  release: string;
  arch: string;
  distro?: string;
}

/** LBC_ERR_KERNEL_UNKNOWN from a catalog route: the nearest kernels as --kernel flags to retry with. */
function kernelSuggestionLines(err: LbcError): string[] {
  const list = (Array.isArray(err.details?.suggestions) ? err.details.suggestions : []) as KernelSuggestion[];
  if (list.length === 0) return ['  the service knows no kernel yet: run this on the machine without --kernel (its BTF is uploaded), or ingest a kernel package (lbc-admin ingest)'];
  return ['  nearest kernels the service knows:', ...list.map((k) => `    --kernel ${k.btfSha256.slice(0, 12)}   ${k.release} ${k.arch}${k.distro ? ` (${k.distro})` : ''}`)];
}

/** Prints the error as every lbc command does, plus what to try instead: names, kernels, or --kernel after a refused upload. */
export function reportCatalogError(err: unknown): void {
  if (isLbcError(err, 'LBC_ERR_KERNEL_UNKNOWN')) {
    process.stderr.write([err.format(), ...kernelSuggestionLines(err)].join('\n') + '\n');
    process.exitCode = 1;
    return;
  }
  reportError(err);
  if (!isLbcError(err)) return;
  if (err.details?.upload) process.stderr.write('  or: pass --kernel with a kernel the service knows (lbc kernels lists them)\n');
  const suggestions = err.details?.suggestions;
  if (Array.isArray(suggestions) && suggestions.length > 0 && typeof suggestions[0] === 'string') {
    process.stderr.write(`  did you mean: ${suggestions.join(', ')}\n`);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
