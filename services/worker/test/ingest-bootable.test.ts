/**
 * Bootable kernel sets: a kernel image package (linux-image-*.deb, kernel-core RPM) keeps its boot
 * image (vmlinuz, arm64 Image) beside the BTF, content-addressed in the blob store, and the kernel
 * says it is bootable; packages without one (-dbg, debuginfo, raw BTF) leave it not bootable until
 * an image package of the same kernel brings one. Real packages, real ingest container, real Redis.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestStatus } from '@lbc/contract';
import { sha256Of } from '@lbc/core';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';
import { startIngestHarness, type IngestHarness } from '@lbc/test-support/ingest-harness';
import { startIngestWorker } from '../src/ingest/ingest-worker.ts';

let h: IngestHarness;
let fx: FixtureBuilder;
const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-boot-'));

beforeAll(async () => {
  fx = new FixtureBuilder(dir);
  h = await startIngestHarness();
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The kernel is bootable and its image, read back from the blob store, is `image` byte for byte. */
function expectBootImage(status: IngestStatus, image: string): void {
  expect(status.error).toBeUndefined();
  const bytes = readFileSync(image);
  expect(status.kernel).toMatchObject({ bootable: true, bootImage: { sha256: sha256Of(bytes), size: bytes.length } });
  const path = h.registry.bootImagePath(status.kernel!.btfSha256)!;
  expect(path.startsWith(join(h.dataDir, 'blobs'))).toBe(true);
  expect(readFileSync(path).equals(bytes)).toBe(true);
  expect(h.registry.get(status.kernel!.btfSha256)).toMatchObject({ bootable: true });
}

describe('bootable kernel sets', () => {
  it('a kernel image DEB (x86_64): the vmlinuz is kept as the boot image', async () => {
    const vmlinuz = fx.vmlinuz(fx.btfElf('boot_x86'), 'zstd');
    const deb = fx.deb({ name: 'linux-image-6.1.0-89-cloud-amd64', version: '6.1.130-1', arch: 'amd64', files: { '/boot/vmlinuz-6.1.0-89-cloud-amd64': vmlinuz }, compression: 'xz' });
    const status = await h.ingest(deb);
    expectBootImage(status, vmlinuz);
    expect(status.kernel).toMatchObject({ release: '6.1.0-89-cloud-amd64', arch: 'x86_64' });
  });

  it('a Debian arm64 kernel image DEB: the uncompressed Image is the boot image, the kernel aarch64', async () => {
    const image = fx.arm64Image(fx.rawBtf('boot_arm64'));
    const deb = fx.deb({ name: 'linux-image-6.12.90+deb13-cloud-arm64', version: '6.12.90-1', arch: 'arm64', files: { '/boot/vmlinuz-6.12.90+deb13-cloud-arm64': image }, compression: 'xz' });
    const status = await h.ingest(deb);
    expectBootImage(status, image);
    expect(status.kernel).toMatchObject({ release: '6.12.90+deb13-cloud-arm64', arch: 'aarch64' });
  });

  it('a kernel-core RPM: /lib/modules/R/vmlinuz is the boot image', async () => {
    const vmlinuz = fx.vmlinuz(fx.btfElf('boot_rpm'), 'gzip');
    const rpm = fx.rpm({ name: 'kernel-core', version: '5.14.0', release: '71.el9', arch: 'x86_64', files: { '/lib/modules/5.14.0-71.el9.x86_64/vmlinuz': vmlinuz }, payload: 'xz' });
    expectBootImage(await h.ingest(rpm), vmlinuz);
  });

  it('-dbg and raw BTF are not bootable; an image package of the same kernel (same BTF) makes it bootable', async () => {
    const elf = fx.btfElf('boot_later');
    const dbg = fx.deb({ name: 'linux-image-6.1.0-88-cloud-amd64-dbg', version: '6.1.129-1', arch: 'amd64', files: { '/usr/lib/debug/boot/vmlinux-6.1.0-88-cloud-amd64': elf }, compression: 'xz' });
    const fromDbg = await h.ingest(dbg);
    expect(fromDbg.kernel).toMatchObject({ release: '6.1.0-88-cloud-amd64', bootable: false });
    expect(fromDbg.kernel!.bootImage).toBeUndefined();
    expect(h.registry.bootImagePath(fromDbg.kernel!.btfSha256)).toBeNull();
    const raw = await h.ingest(fx.rawBtf('boot_raw'), { release: '6.6.0-raw', arch: 'x86_64' });
    expect(raw.kernel).toMatchObject({ source: 'package', bootable: false });

    const vmlinuz = fx.vmlinuz(elf, 'gzip');
    const image = fx.deb({ name: 'linux-image-6.1.0-88-cloud-amd64', version: '6.1.129-1', arch: 'amd64', files: { '/boot/vmlinuz-6.1.0-88-cloud-amd64': vmlinuz }, compression: 'xz' });
    const fromImage = await h.ingest(image);
    expect(fromImage.kernel!.btfSha256).toBe(fromDbg.kernel!.btfSha256);
    expectBootImage(fromImage, vmlinuz);
  });

  it('a boot image over the bound is LBC_ERR_INGEST_TOO_LARGE, and nothing is registered', async () => {
    const bounded = await startIngestHarness({ worker: false });
    const worker = await startIngestWorker({ redisUrl: bounded.privateRedis.url, dataDir: bounded.dataDir, maxBootImageBytes: 1024 });
    try {
      const vmlinuz = fx.vmlinuz(fx.btfElf('boot_big'), 'xz');
      expect(readFileSync(vmlinuz).length).toBeGreaterThan(1024);
      const deb = fx.deb({ name: 'linux-image-6.1.0-87-cloud-amd64', version: '6.1.128-1', arch: 'amd64', files: { '/boot/vmlinuz-6.1.0-87-cloud-amd64': vmlinuz }, compression: 'xz' });
      const status = await bounded.ingest(deb);
      expect(status.state).toBe('failed');
      expect(status.error).toMatchObject({ code: 'LBC_ERR_INGEST_TOO_LARGE', message: expect.stringMatching(/boot image is over the 1024-byte limit/) });
      expect(bounded.registry.list()).toEqual([]);
    } finally {
      await worker.close();
      await bounded.close();
    }
  });
});
