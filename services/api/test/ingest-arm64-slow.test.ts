/**
 * The slow tier for arm64 (LBC_SLOW=1; not part of the default run): Debian's real arm64 cloud
 * kernels (bookworm 6.1 and trixie 6.12), fetched through a private apt configuration, go through
 * POST /v1/kernels/ingest. Their vmlinuz is an uncompressed arm64 Image with the .BTF inside; the
 * catalog built from it lays task_struct out exactly as bpftool reads the same BTF, and the Image
 * is kept: the kernel is bootable, and the kept Image boots under QEMU (TCG, no initramfs: it runs
 * until it looks for a root file system).
 *   LBC_SLOW=1 npx vitest run services/api/test/ingest-arm64-slow.test.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestStatus, StructLayout } from '@lbc/contract';
import { bpftoolTypes } from '@lbc/test-support/bpftool-btf';
import { startIngestApp, uploadKernelPackage, type IngestApp } from '@lbc/test-support/ingest-app';
import { downloadDebianArm64Kernel } from '@lbc/test-support/debian-kernel';
import { slowTier } from '@lbc/test-support/slow-tier';

/** Boots an arm64 Image under QEMU (TCG) with no initramfs; returns the console up to the panic for want of a root. */
function bootWithoutRoot(image: string): string {
  try {
    execFileSync('qemu-system-aarch64', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('qemu-system-aarch64 is missing: apt-get install qemu-system-arm (scripts/setup.sh does)');
  }
  const run = spawnSync('qemu-system-aarch64', [
    '-M', 'virt', '-cpu', 'max,pauth-impdef=on', '-m', '512M', '-smp', '1', '-nographic', '-no-reboot', '-nic', 'none',
    '-kernel', image, '-append', 'console=ttyAMA0 panic=-1',
  ], { encoding: 'latin1', timeout: 120_000 });
  return `${run.stdout}${run.stderr}`;
}

const SLOW = slowTier('ingest-arm64-slow.test.ts', "ingests Debian's real arm64 cloud kernel packages (6.1 and 6.12)");

describe.skipIf(!SLOW)("slow tier: Debian's real arm64 kernel image packages (LBC_SLOW=1)", () => {
  let running: IngestApp;
  const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-arm64-'));

  beforeAll(async () => {
    running = await startIngestApp();
  }, 600_000);
  afterAll(async () => {
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['6.1', '6.12'] as const)('linux-image-%s arm64: BTF found inside the Image, catalog offsets equal to bpftool', async (series) => {
    const pkg = downloadDebianArm64Kernel(dir, series);
    const started = performance.now();
    const res = await uploadKernelPackage(running.app, pkg.file, 300_000);
    expect(res.statusCode, res.body).toBe(201);
    const status = res.json() as IngestStatus;
    expect(status).toMatchObject({ btfSource: 'image', kernel: { release: pkg.release, arch: 'aarch64', distro: 'debian', source: 'package', bootable: true } });
    const btf = running.h.registry.readBtf(status.kernel!.btfSha256)!;
    // The boot image is the package's vmlinuz as shipped: an arm64 Image (magic ARM\x64 at 0x38).
    const image = readFileSync(running.h.registry.bootImagePath(status.kernel!.btfSha256)!);
    expect(image.subarray(0x38, 0x3c).toString('latin1')).toBe('ARM\x64');
    expect(image.length).toBe(status.kernel!.bootImage!.size);
    process.stderr.write(`ingested ${pkg.file.split('/').pop()} in ${Math.round(performance.now() - started)} ms: BTF ${btf.length} bytes, boot image ${image.length} bytes\n`);

    const booted = performance.now();
    const consoleText = bootWithoutRoot(running.h.registry.bootImagePath(status.kernel!.btfSha256)!);
    expect(consoleText).toContain(`Linux version ${pkg.release} `);
    expect(consoleText).toMatch(/Kernel panic - not syncing: VFS: Unable to mount root fs/);
    process.stderr.write(`the kept Image booted to its root mount in ${Math.round(performance.now() - booted)} ms\n`);

    const btfFile = join(dir, `${pkg.release}.btf`);
    writeFileSync(btfFile, btf);
    const types = bpftoolTypes(btfFile);
    for (const name of ['task_struct', 'sk_buff', 'file']) {
      const ref = types.find((t) => t.kind === 'STRUCT' && t.name === name)!;
      const layout = (await running.app.inject({ url: `/v1/kernels/${status.kernel!.btfSha256}/structs/${name}` })).json() as StructLayout;
      expect(layout.size, name).toBe(ref.size);
      const top = layout.members.filter((m) => m.depth === 0);
      expect(top.map((m) => [m.name || '(anon)', m.bitOffset, m.bitSize]), name).toEqual(ref.members!.map((m) => [m.name, m.bits_offset, m.bitfield_size ?? 0]));
    }
  }, 600_000);
});
