/**
 * Kernel packages built here with gcc -g, pahole, rpmbuild and dpkg-deb go through the real
 * pipeline (queue → locked-down ingest container → registration): the kernel is registered under
 * the package's release, arch and distro, and its BTF lays the structs out as the C compiler does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBtf, type Btf, type BtfTypeOf } from '@lbc/btf';
import type { IngestStatus } from '@lbc/contract';
import { hostArch } from '@lbc/core';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';
import { startIngestHarness, type IngestHarness } from '@lbc/test-support/ingest-harness';

let h: IngestHarness;
let fx: FixtureBuilder;
let offsets: Record<string, number>;
const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-fx-'));

beforeAll(async () => {
  fx = new FixtureBuilder(dir);
  offsets = fx.offsets();
  h = await startIngestHarness();
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

function member(btf: Btf, struct: string, name: string) {
  const [t] = btf.findByName(struct, 'struct') as BtfTypeOf<'struct'>[];
  return t?.members.find((m) => m.name === name);
}

/** The registered kernel's BTF holds the structs of the C source, at the C compiler's offsets. */
function expectKernelStructs(status: IngestStatus, tag: string): void {
  expect(status.error).toBeUndefined();
  expect(status.state).toBe('completed');
  const btf = parseBtf(h.registry.readBtf(status.kernel!.btfSha256)!);
  const [task] = btf.findByName('task_struct', 'struct') as BtfTypeOf<'struct'>[];
  expect(task?.size).toBe(offsets.sizeof);
  for (const m of ['prio', 'se', 'comm', 'tasks']) expect(member(btf, 'task_struct', m)?.bitOffset).toBe(offsets[m]! * 8);
  expect(member(btf, 'sched_entity', 'run_node')?.bitOffset).toBe(offsets['se.run_node']! * 8);
  expect(member(btf, 'task_struct', 'ptrace')?.bitSize).toBe(5);
  expect(btf.findByName(tag, 'struct')).toHaveLength(1);
}

describe('ingesting kernel packages', () => {
  it('a debuginfo RPM (zstd payload): BTF from DWARF with pahole, identity from the RPM header', async () => {
    const vmlinux = fx.dwarfElf('fx_rpm_zstd');
    const rpm = fx.rpm({
      name: 'kernel-debuginfo', version: '5.10.134', release: '16.al8', arch: 'x86_64', vendor: 'Alibaba Cloud',
      files: { '/usr/lib/debug/lib/modules/5.10.134-16.al8.x86_64/vmlinux': vmlinux }, payload: 'zstd',
    });
    const status = await h.ingest(rpm);
    expectKernelStructs(status, 'fx_rpm_zstd');
    expect(status.btfSource).toBe('dwarf');
    expect(status.kernel).toMatchObject({ release: '5.10.134-16.al8.x86_64', arch: 'x86_64', distro: 'alinux', source: 'package' });
  });

  it('a debuginfo RPM (xz payload) of a CentOS kernel', async () => {
    const rpm = fx.rpm({
      name: 'kernel-debuginfo', version: '4.18.0', release: '348.el8', arch: 'x86_64', vendor: 'CentOS',
      files: { '/usr/lib/debug/lib/modules/4.18.0-348.el8.x86_64/vmlinux': fx.dwarfElf('fx_rpm_xz') }, payload: 'xz',
    });
    const status = await h.ingest(rpm);
    expectKernelStructs(status, 'fx_rpm_xz');
    expect(status.kernel).toMatchObject({ release: '4.18.0-348.el8.x86_64', arch: 'x86_64', distro: 'centos' });
  });

  it('a kernel image RPM (kernel-core) whose /lib/modules/R/vmlinuz (gzip) carries .BTF; distro from the dist tag', async () => {
    const rpm = fx.rpm({
      name: 'kernel-core', version: '5.14.0', release: '70.el9', arch: 'x86_64',
      files: { '/lib/modules/5.14.0-70.el9.x86_64/vmlinuz': fx.vmlinuz(fx.btfElf('fx_rpm_image'), 'gzip') }, payload: 'xz',
    });
    const status = await h.ingest(rpm);
    expectKernelStructs(status, 'fx_rpm_image');
    expect(status.btfSource).toBe('section');
    expect(status.kernel).toMatchObject({ release: '5.14.0-70.el9.x86_64', arch: 'x86_64', distro: 'rhel' });
  });

  it('a Debian -dbg DEB (xz): vmlinux with DWARF', async () => {
    const deb = fx.deb({
      name: 'linux-image-6.1.0-97-cloud-amd64-dbg', version: '6.1.148-1', arch: 'amd64',
      files: { '/usr/lib/debug/boot/vmlinux-6.1.0-97-cloud-amd64': fx.dwarfElf('fx_deb_dbg') }, compression: 'xz',
    });
    const status = await h.ingest(deb);
    expectKernelStructs(status, 'fx_deb_dbg');
    expect(status.kernel).toMatchObject({ release: '6.1.0-97-cloud-amd64', arch: 'x86_64', distro: 'debian' });
  });

  it('a kernel image DEB (zstd) whose vmlinuz (zstd) carries .BTF', async () => {
    const vmlinuz = fx.vmlinuz(fx.btfElf('fx_deb_image'), 'zstd');
    const deb = fx.deb({
      name: 'linux-image-6.1.0-98-cloud-amd64', version: '6.1.150-1', arch: 'amd64',
      files: { '/boot/vmlinuz-6.1.0-98-cloud-amd64': vmlinuz }, compression: 'zstd',
    });
    const status = await h.ingest(deb);
    expectKernelStructs(status, 'fx_deb_image');
    expect(status.btfSource).toBe('section');
    expect(status.kernel).toMatchObject({ release: '6.1.0-98-cloud-amd64', arch: 'x86_64', distro: 'debian' });
  });

  it("a Debian arm64 kernel image DEB: its vmlinuz is an uncompressed arm64 Image with the BTF inside (the largest blob that parses)", async () => {
    const deb = fx.deb({
      name: 'linux-image-6.1.0-94-cloud-arm64', version: '6.1.145-1', arch: 'arm64',
      files: { '/boot/vmlinuz-6.1.0-94-cloud-arm64': fx.arm64Image(fx.rawBtf('fx_arm64_image')) }, compression: 'xz',
    });
    const status = await h.ingest(deb);
    expectKernelStructs(status, 'fx_arm64_image');
    expect(status.btfSource).toBe('image');
    expect(status.kernel).toMatchObject({ release: '6.1.0-94-cloud-arm64', arch: 'aarch64', distro: 'debian', source: 'package' });
  });

  it('a raw, uncompressed x86 image (no ELF, no compressed stream) with the BTF inside', async () => {
    const raw = fx.file('fx_raw_x86.vmlinuz', Buffer.concat([Buffer.alloc(8192, 0x90), readFileSync(fx.rawBtf('fx_raw_x86')), Buffer.alloc(4096, 0xcc)]));
    const deb = fx.deb({ name: 'linux-image-6.1.0-92-cloud-amd64', version: '6.1.139-1', arch: 'amd64', files: { '/boot/vmlinuz-6.1.0-92-cloud-amd64': raw }, compression: 'xz' });
    const status = await h.ingest(deb);
    expectKernelStructs(status, 'fx_raw_x86');
    expect(status.btfSource).toBe('image');
    expect(status.kernel).toMatchObject({ release: '6.1.0-92-cloud-amd64', arch: 'x86_64' });
  });

  it('a bare arm64 Image, release given: arch from its header', async () => {
    const status = await h.ingest(fx.arm64Image(fx.rawBtf('fx_bare_image')), { release: '6.12.0-lab' }, 'Image');
    expectKernelStructs(status, 'fx_bare_image');
    expect(status.btfSource).toBe('image');
    expect(status.kernel).toMatchObject({ release: '6.12.0-lab', arch: 'aarch64', source: 'package' });
    expect(status.kernel!.bootable).toBe(true);
  });

  it('a kernel image DEB whose vmlinuz is lz4 (legacy frame) compressed', async () => {
    const deb = fx.deb({
      name: 'linux-image-6.1.0-95-cloud-amd64', version: '6.1.146-1', arch: 'amd64',
      files: { '/boot/vmlinuz-6.1.0-95-cloud-amd64': fx.vmlinuz(fx.btfElf('fx_lz4'), 'lz4') }, compression: 'xz',
    });
    const status = await h.ingest(deb);
    expectKernelStructs(status, 'fx_lz4');
    expect(status.kernel).toMatchObject({ release: '6.1.0-95-cloud-amd64', arch: 'x86_64' });
  });

  it('an Ubuntu ddeb whose vmlinuz is gzip-compressed', async () => {
    const ddeb = fx.deb({
      name: 'linux-image-unsigned-5.15.0-91-generic-dbgsym', version: '5.15.0-91.101', arch: 'amd64', maintainer: 'Ubuntu Kernel Team <kernel-team@lists.ubuntu.com>',
      files: { '/boot/vmlinuz-5.15.0-91-generic': fx.vmlinuz(fx.btfElf('fx_ddeb'), 'gzip') }, compression: 'xz',
      fileName: 'linux-image-unsigned-5.15.0-91-generic-dbgsym_5.15.0-91.101_amd64.ddeb',
    });
    const status = await h.ingest(ddeb);
    expectKernelStructs(status, 'fx_ddeb');
    expect(status.kernel).toMatchObject({ release: '5.15.0-91-generic', arch: 'x86_64', distro: 'ubuntu' });
  });

  it('a BTFHub archive: release from the archive, arch from the release, distro from the request', async () => {
    // Other members after the .btf: the listing is read to its end (no SIGPIPE for tar).
    const archive = fx.btfHubArchive('fx_hub', '5.4.0-1010-aws.x86_64', { otherFiles: 3000 });
    const status = await h.ingest(archive, { distro: 'ubuntu' });
    expectKernelStructs(status, 'fx_hub');
    expect(status.kernel).toMatchObject({ release: '5.4.0-1010-aws.x86_64', arch: 'x86_64', distro: 'ubuntu' });
  });

  it('raw BTF with release and arch given', async () => {
    const status = await h.ingest(fx.rawBtf('fx_raw'), { release: '6.6.0-custom', arch: 'aarch64', distro: 'custom' });
    expectKernelStructs(status, 'fx_raw');
    expect(status.kernel).toMatchObject({ release: '6.6.0-custom', arch: 'aarch64', distro: 'custom', source: 'package' });
  });

  it("this machine's own BTF as raw BTF: task_struct.comm where bpftool btf dump puts it", async () => {
    const status = await h.ingest('/sys/kernel/btf/vmlinux', { release: `${release()}-ingested`, arch: hostArch()!, distro: 'host' }, 'vmlinux');
    expect(status).toMatchObject({ state: 'completed', btfSource: 'raw', kernel: { release: `${release()}-ingested`, source: 'package' } });
    const btf = parseBtf(h.registry.readBtf(status.kernel!.btfSha256)!);
    const dump = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const taskStruct = /^\[\d+\] STRUCT 'task_struct' size=\d+ vlen=\d+\n((?:\t.*\n)+)/m.exec(dump)![1]!;
    const comm = /'comm' type_id=\d+ bits_offset=(\d+)/.exec(taskStruct)![1];
    expect(member(btf, 'task_struct', 'comm')?.bitOffset).toBe(Number(comm));
  });

  it('the same package twice is a no-op; another package with identical BTF shares the kernel set', async () => {
    const rpm = fx.rpm({
      name: 'kernel-debuginfo', version: '5.10.134', release: '17.al8', arch: 'x86_64',
      files: { '/usr/lib/debug/lib/modules/5.10.134-17.al8.x86_64/vmlinux': fx.dwarfElf('fx_twice') }, payload: 'xz',
    });
    const first = await h.ingest(rpm);
    expectKernelStructs(first, 'fx_twice');
    const kernels = h.registry.list().length;
    const again = await h.ingest(rpm);
    expect(again).toMatchObject({ state: 'completed', duplicate: true, kernel: { btfSha256: first.kernel!.btfSha256 } });
    expect(h.registry.list()).toHaveLength(kernels);
  });

  it('reports progress stages while the job runs', async () => {
    const seen = new Set<string>();
    const onProgress = ({ data }: { data: unknown }) => seen.add((data as { stage: string }).stage);
    h.service.events.on('progress', onProgress);
    const deb = fx.deb({
      name: 'linux-image-6.1.0-96-cloud-amd64', version: '6.1.147-1', arch: 'amd64',
      files: { '/boot/vmlinuz-6.1.0-96-cloud-amd64': fx.vmlinuz(fx.btfElf('fx_progress'), 'xz') }, compression: 'xz',
    });
    const status = await h.ingest(deb);
    h.service.events.off('progress', onProgress);
    expect(status.state).toBe('completed');
    expect([...seen]).toEqual(expect.arrayContaining(['detecting', 'metadata', 'unpacking', 'converting', 'registering']));
  });
});
