import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceClient } from '../transport/service-client.ts';
import { writeFileAtomic } from '../cache/atomic-write.ts';

/**
 * For kernels without /sys/kernel/btf/vmlinux the service supplies the BTF its kernel set was built
 * from; libbpf gets it as btf_custom_path. Stored by hash so it is fetched once per kernel.
 */
export async function fetchServiceBtf(client: ServiceClient, btfUrl: string, btfSha256: string, cacheDir: string): Promise<string> {
  const path = join(cacheDir, 'btf', `${btfSha256}.btf`);
  if (existsSync(path)) return path;
  const bytes = await client.fetchVerified(btfUrl, btfSha256, 'btf');
  writeFileAtomic(path, bytes);
  return path;
}
