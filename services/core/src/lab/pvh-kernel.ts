/**
 * An x86 bzImage's kernel as the ELF vmlinux inside it, for QEMU's PVH entry: QEMU then jumps
 * straight into the 64-bit kernel, skipping SeaBIOS's real-mode boot and the kernel decompressing
 * itself, both slow under TCG (about 1.5-2 s of a 4-6 s boot here). Debian's x86 kernels carry the
 * PVH entry note (Xen ELF note 18, PHYS32_ENTRY). The vmlinux is kept in the lab directory by the
 * image's sha256; an image that is not a bzImage, or whose vmlinux has no PVH entry, boots as it is.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveLabDir } from './lab-kernels.ts';

// bzImage setup header (Documentation/arch/x86/boot.rst): setup_sects at 0x1f1, "HdrS" at 0x202,
// payload_offset/payload_length (2.08+) at 0x248/0x24c, relative to the protected-mode code.
const DECOMPRESSORS: [magic: Buffer, argv: string[]][] = [
  [Buffer.from([0x1f, 0x8b]), ['gzip', '-dc']],
  [Buffer.from('fd377a585a00', 'hex'), ['xz', '-dc']],
  [Buffer.from('28b52ffd', 'hex'), ['zstd', '-dcq']],
  [Buffer.from('02214c18', 'hex'), ['lz4', '-dc']],
];
const XEN_ELFNOTE_PHYS32_ENTRY = 18;

/** Answers by the image's path, size and mtime: hashing a 10 MB image each boot is waste. */
const known = new Map<string, string>();

/** The PVH-bootable vmlinux for `bootImage`, or `bootImage` itself when there is none. */
export async function pvhKernel(bootImage: string, labDir = resolveLabDir()): Promise<string> {
  const st = statSync(bootImage);
  const key = `${labDir}\0${bootImage}\0${st.size}\0${st.mtimeMs}`;
  const answer = known.get(key);
  if (answer && existsSync(answer)) return answer;
  const found = await extractPvhKernel(bootImage, labDir);
  known.set(key, found);
  return found;
}

async function extractPvhKernel(bootImage: string, labDir: string): Promise<string> {
  const image = readFileSync(bootImage);
  const out = join(labDir, 'pvh', `${createHash('sha256').update(image).digest('hex').slice(0, 24)}.vmlinux`);
  if (existsSync(out)) return out;
  const none = `${out}.none`;
  if (existsSync(none)) return bootImage;
  const vmlinux = await decompressPayload(image).catch(() => undefined);
  mkdirSync(join(labDir, 'pvh'), { recursive: true });
  if (!vmlinux || !hasPvhEntry(vmlinux)) {
    writeFileSync(none, '');
    return bootImage;
  }
  const partial = `${out}.${process.pid}.tmp`;
  writeFileSync(partial, vmlinux);
  renameSync(partial, out);
  return out;
}

function decompressPayload(image: Buffer): Promise<Buffer | undefined> {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return Promise.resolve(undefined);
  const protectedMode = ((image[0x1f1] || 4) + 1) * 512;
  const start = protectedMode + image.readUInt32LE(0x248);
  const payload = image.subarray(start, start + image.readUInt32LE(0x24c));
  const tool = DECOMPRESSORS.find(([magic]) => payload.subarray(0, magic.length).equals(magic));
  if (!tool) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const child = spawn(tool[1][0]!, tool[1].slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', () => resolve(undefined));
    // The kernel's payload may carry trailing bytes (its size): the tools stop at the stream's end.
    child.on('close', () => resolve(chunks.length ? Buffer.concat(chunks) : undefined));
    child.stdin.on('error', () => {});
    child.stdin.end(payload);
  });
}

/** An ELF64 little-endian file with a Xen PHYS32_ENTRY note in one of its PT_NOTE segments. */
function hasPvhEntry(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > elf.length || elf.readUInt32LE(ph) !== 4) continue;
    let at = Number(elf.readBigUInt64LE(ph + 8));
    const end = Math.min(elf.length, at + Number(elf.readBigUInt64LE(ph + 32)));
    while (at + 12 <= end) {
      const [namesz, descsz, type] = [elf.readUInt32LE(at), elf.readUInt32LE(at + 4), elf.readUInt32LE(at + 8)];
      const name = elf.toString('latin1', at + 12, at + 12 + namesz).replace(/\0+$/, '');
      if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
      at += 12 + Math.ceil(namesz / 4) * 4 + Math.ceil(descsz / 4) * 4;
    }
  }
  return false;
}
