/**
 * Bad packages fail with a clear LBC_ERR_INGEST_* code and leave nothing behind: no kernel, no
 * ingestion record, no spooled package, no container; and the pipeline goes on serving.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestStatus } from '@lbc/contract';
import { ingestPackagesDir } from '@lbc/core';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';
import { startIngestHarness, type IngestHarness } from '@lbc/test-support/ingest-harness';

let h: IngestHarness;
let fx: FixtureBuilder;
const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-bad-'));

beforeAll(async () => {
  fx = new FixtureBuilder(dir);
  h = await startIngestHarness();
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function expectRefused(file: string, code: string, message: RegExp, fileName?: string): Promise<void> {
  const before = h.registry.list().length;
  const status = await h.ingest(file, {}, fileName);
  expect(status.state).toBe('failed');
  expect(status.error?.code).toBe(code);
  expect(status.error?.message).toMatch(message);
  expect(status.kernel).toBeUndefined();
  expect(h.registry.list()).toHaveLength(before);
  expect(h.service.records.get(status.packageSha256)).toBeNull();
  expect(readdirSync(ingestPackagesDir(h.dataDir))).toEqual([]);
}

const debOf = (name: string, files: Record<string, string>) => fx.deb({ name, version: '6.1.140-1', arch: 'amd64', files, compression: 'xz' });

describe('bad kernel packages', () => {
  it('a truncated RPM', async () => {
    const rpm = fx.rpm({ name: 'kernel-debuginfo', version: '5.10.1', release: '1.al8', arch: 'x86_64', files: { '/usr/lib/debug/lib/modules/5.10.1-1.al8.x86_64/vmlinux': fx.dwarfElf('bad_trunc_rpm') }, payload: 'xz' });
    const cut = fx.truncated(rpm, 0.6);
    await expectRefused(cut, 'LBC_ERR_INGEST_CORRUPT', /damaged or truncated/, basename(rpm));
  });

  it('a truncated DEB', async () => {
    const deb = debOf('linux-image-6.1.0-90-cloud-amd64', { '/boot/vmlinuz-6.1.0-90-cloud-amd64': fx.vmlinuz(fx.btfElf('bad_trunc_deb'), 'xz') });
    await expectRefused(fx.truncated(deb, 0.7), 'LBC_ERR_INGEST_CORRUPT', /truncated/, basename(deb));
  });

  it('wrong magic', async () => {
    await expectRefused(fx.file('kernel-5.10.0-1.el8.x86_64.rpm', 'this is not a package\n'.repeat(10)), 'LBC_ERR_INGEST_FORMAT', /neither a package/);
  });

  it('a package without vmlinux', async () => {
    const readme = fx.file('README', 'docs only\n');
    await expectRefused(debOf('linux-doc-6.1', { '/usr/share/doc/linux-doc-6.1/README': readme }), 'LBC_ERR_INGEST_NO_VMLINUX', /no vmlinux or vmlinuz/);
  });

  it('a .tar.xz without a <release>.btf', async () => {
    const tarDir = join(dir, 'no-btf-tar');
    execFileSync('sh', ['-c', `mkdir -p ${tarDir} && for i in $(seq 1 3000); do echo $i > ${tarDir}/f$i.txt; done`]);
    const archive = join(dir, '5.4.0-1-aws.btf.tar.xz');
    execFileSync('tar', ['-C', tarDir, '-cJf', archive, '.']);
    await expectRefused(archive, 'LBC_ERR_INGEST_NO_VMLINUX', /no <release>\.btf/);
  });

  it('DWARF without types (gcc -g1)', async () => {
    const rpm = fx.rpm({ name: 'kernel-debuginfo', version: '5.10.2', release: '1.al8', arch: 'x86_64', files: { '/usr/lib/debug/lib/modules/5.10.2-1.al8.x86_64/vmlinux': fx.dwarfElf('bad_g1', '-g1') }, payload: 'zstd' });
    await expectRefused(rpm, 'LBC_ERR_INGEST_NO_TYPES', /no type information/);
  });

  it('a vmlinux with neither .BTF nor DWARF', async () => {
    const elf = fx.dwarfElf('bad_stripped');
    execFileSync('objcopy', ['--strip-debug', elf]);
    await expectRefused(debOf('linux-image-6.1.0-91-cloud-amd64', { '/boot/vmlinuz-6.1.0-91-cloud-amd64': fx.vmlinuz(elf, 'gzip') }), 'LBC_ERR_INGEST_NO_BTF', /neither a .BTF section nor DWARF/);
  });

  it('an arm64 Image without BTF: the message says the image carries none', async () => {
    const image = fx.arm64Image(fx.rawBtf('bad_arm64'), { withBtf: false });
    const deb = fx.deb({ name: 'linux-image-6.1.0-93-cloud-arm64', version: '6.1.140-1', arch: 'arm64', files: { '/boot/vmlinuz-6.1.0-93-cloud-arm64': image }, compression: 'xz' });
    await expectRefused(deb, 'LBC_ERR_INGEST_NO_BTF', /vmlinuz-6\.1\.0-93-cloud-arm64 carries no BTF: it is no ELF vmlinux, holds no BTF blob/);
    await expectRefused(image, 'LBC_ERR_INGEST_NO_BTF', /arm64 Image carries no BTF blob/, 'Image');
  });

  it('a 10 GB size claim in a header', async () => {
    const deb = debOf('linux-image-6.1.0-92-cloud-amd64', { '/boot/vmlinuz-6.1.0-92-cloud-amd64': fx.vmlinuz(fx.btfElf('bad_claim'), 'xz') });
    await expectRefused(fx.debClaiming10GB(deb), 'LBC_ERR_INGEST_TOO_LARGE', /claims 10\.0 GB unpacked/, basename(deb));
  });

  it('a file name that contradicts the package', async () => {
    const rpm = fx.rpm({ name: 'kernel-debuginfo', version: '5.10.3', release: '1.al8', arch: 'x86_64', files: { '/usr/lib/debug/lib/modules/5.10.3-1.al8.x86_64/vmlinux': fx.dwarfElf('bad_name') }, payload: 'xz' });
    const renamed = join(dir, 'kernel-debuginfo-5.10.99-1.al8.x86_64.rpm');
    copyFileSync(rpm, renamed);
    await expectRefused(renamed, 'LBC_ERR_INGEST_METADATA', /file name .* says version "5\.10\.99" but the package says "5\.10\.3"/);
  });

  it('raw BTF without a release', async () => {
    await expectRefused(fx.rawBtf('bad_norelease'), 'LBC_ERR_INGEST_METADATA', /architecture .* is not in the package|release is not in the package/, 'upload.bin');
  });

  it('leaves no ingest container behind, and a good package still ingests afterwards', async () => {
    const left = await new Dockerode().listContainers({ all: true, filters: { label: ['lbc.role=ingest'] } });
    expect(left).toEqual([]);
    const deb = debOf('linux-image-6.1.0-93-cloud-amd64', { '/boot/vmlinuz-6.1.0-93-cloud-amd64': fx.vmlinuz(fx.btfElf('good_after'), 'xz') });
    const status = await h.ingest(deb);
    expect(status).toMatchObject({ state: 'completed', kernel: { release: '6.1.0-93-cloud-amd64', source: 'package' } });
  });
});
