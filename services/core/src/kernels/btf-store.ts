/**
 * Kernel BTF in the farm blob store (store/farm-blobs.ts), so that any worker on any host can build
 * the kernel set it needs from the hash alone. The API (or the ingest worker) writes on
 * registration; workers read on demand. Redis holds at most where a BTF is, never its bytes.
 */
import { LbcError } from '@lbc/contract';
import type { FarmBlobs } from '../store/farm-blobs.ts';

export async function putSharedBtf(blobs: FarmBlobs, sha256: string, btf: Buffer): Promise<void> {
  const stored = await blobs.put(btf);
  if (stored !== sha256) throw new LbcError('LBC_ERR_BTF_HASH_MISMATCH', `got ${stored}`, { expected: sha256, actual: stored });
}

export function getSharedBtf(blobs: FarmBlobs, sha256: string): Promise<Buffer | null> {
  return blobs.get(sha256);
}

export function hasSharedBtf(blobs: FarmBlobs, sha256: string): Promise<boolean> {
  return blobs.has(sha256);
}
