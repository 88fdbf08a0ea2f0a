/**
 * A kernel the service has never seen, that still describes this machine: the host's BTF with one
 * empty string appended to its string section. Same types (so objects compiled for it load here),
 * different sha256 (so the service answers LBC_ERR_KERNEL_UNKNOWN and the client must upload it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeVariantBtf(dir: string, hostBtf = '/sys/kernel/btf/vmlinux'): string {
  const btf = readFileSync(hostBtf);
  if (btf.readUInt16LE(0) !== 0xeb9f) throw new Error('host BTF is not little-endian BTF');
  const hdrLen = btf.readUInt32LE(4);
  const strOff = btf.readUInt32LE(16);
  const strLen = btf.readUInt32LE(20);
  if (hdrLen + strOff + strLen !== btf.length) throw new Error('string section is not last in the host BTF');
  const out = Buffer.concat([btf, Buffer.from([0])]);
  out.writeUInt32LE(strLen + 1, 20);
  const path = join(dir, 'variant.btf');
  writeFileSync(path, out);
  return path;
}
