/** A kernel's identity from package facts: release, arch and distro, checked against the file name and the admin's hints. */
import { describe, expect, it } from 'vitest';
import { LbcError } from '@lbc/contract';
import { kernelIdentity, releaseFromPath } from '../src/ingest/kernel-identity.ts';
import { parsePackageFileName } from '../src/ingest/package-name.ts';

const rpm = { format: 'rpm', name: 'kernel-debuginfo', version: '4.18.0', release: '348.el8', arch: 'x86_64', vendor: '(none)', path: '/usr/lib/debug/lib/modules/4.18.0-348.el8.x86_64/vmlinux' };
const deb = { format: 'deb', name: 'linux-image-6.1.0-27-cloud-amd64', version: '6.1.115-1', arch: 'amd64', maintainer: 'Debian Kernel Team <debian-kernel@lists.debian.org>', path: '/boot/vmlinuz-6.1.0-27-cloud-amd64' };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof LbcError ? err.code : 'not an LbcError';
  }
  return undefined;
}

describe('package file names', () => {
  it('parses the RPM, DEB/ddeb (epoch %3a) and BTFHub conventions; anything else says nothing', () => {
    expect(parsePackageFileName('dir/kernel-debuginfo-4.18.0-348.el8.x86_64.rpm')).toEqual({ kind: 'rpm', name: 'kernel-debuginfo', version: '4.18.0', release: '348.el8', arch: 'x86_64' });
    expect(parsePackageFileName('linux-image-6.1.0-27-cloud-amd64_1%3a6.1.115-1_amd64.deb')).toEqual({ kind: 'deb', name: 'linux-image-6.1.0-27-cloud-amd64', version: '1:6.1.115-1', arch: 'amd64' });
    expect(parsePackageFileName('linux-image-unsigned-5.15.0-91-generic-dbgsym_5.15.0-91.101_amd64.ddeb')).toMatchObject({ kind: 'deb', arch: 'amd64' });
    expect(parsePackageFileName('5.4.0-1010-aws.btf.tar.xz')).toEqual({ kind: 'btf', kernelRelease: '5.4.0-1010-aws' });
    expect(parsePackageFileName('upload.bin')).toEqual({ kind: 'none' });
  });

  it('finds the release in kernel image paths', () => {
    expect(releaseFromPath('/boot/vmlinuz-6.1.0-27-cloud-amd64')).toBe('6.1.0-27-cloud-amd64');
    expect(releaseFromPath('/usr/lib/debug/boot/vmlinux-5.15.0-91-generic')).toBe('5.15.0-91-generic');
    expect(releaseFromPath('/usr/lib/debug/lib/modules/4.18.0-348.el8.x86_64/vmlinux')).toBe('4.18.0-348.el8.x86_64');
    expect(releaseFromPath('/lib/modules/5.14.0-70.el9.x86_64/vmlinuz')).toBe('5.14.0-70.el9.x86_64');
  });
});

describe('kernelIdentity', () => {
  it('RPM: release from the module path, arch from the header, distro from vendor or dist tag', () => {
    expect(kernelIdentity(rpm, 'kernel-debuginfo-4.18.0-348.el8.x86_64.rpm', {})).toEqual({ release: '4.18.0-348.el8.x86_64', arch: 'x86_64', distro: 'rhel' });
    expect(kernelIdentity({ ...rpm, vendor: 'CentOS' }, 'x.rpm', {}).distro).toBe('centos');
    expect(kernelIdentity({ ...rpm, release: '16.al8', vendor: '(none)', path: '/usr/lib/debug/lib/modules/5.10.134-16.al8.x86_64/vmlinux' }, 'pkg.rpm', {}).distro).toBe('alinux');
    // The admin knows better than a dist tag (el8 could be CentOS, RHEL, Rocky…).
    expect(kernelIdentity(rpm, 'pkg.rpm', { distro: 'rocky' }).distro).toBe('rocky');
  });

  it('DEB: amd64 is x86_64, Ubuntu told apart from Debian; the epoch is not in file names', () => {
    expect(kernelIdentity(deb, 'linux-image-6.1.0-27-cloud-amd64_6.1.115-1_amd64.deb', {})).toEqual({ release: '6.1.0-27-cloud-amd64', arch: 'x86_64', distro: 'debian' });
    expect(kernelIdentity({ ...deb, version: '1:6.1.115-1' }, 'linux-image-6.1.0-27-cloud-amd64_6.1.115-1_amd64.deb', {}).release).toBe('6.1.0-27-cloud-amd64');
    expect(kernelIdentity({ ...deb, arch: 'arm64', version: '5.15.0-91.101', maintainer: 'Ubuntu Kernel Team', path: '/boot/vmlinuz-5.15.0-91-generic' }, 'x.ddeb', {})).toEqual({ release: '5.15.0-91-generic', arch: 'aarch64', distro: 'ubuntu' });
  });

  it('contradictions are LBC_ERR_INGEST_METADATA', () => {
    expect(codeOf(() => kernelIdentity(rpm, 'kernel-debuginfo-4.18.0-999.el8.x86_64.rpm', {}))).toBe('LBC_ERR_INGEST_METADATA');
    expect(codeOf(() => kernelIdentity(deb, 'linux-image-6.1.0-27-cloud-amd64_6.1.115-1_arm64.deb', {}))).toBe('LBC_ERR_INGEST_METADATA');
    expect(codeOf(() => kernelIdentity(deb, 'x.deb', { release: '6.1.0-28-cloud-amd64' }))).toBe('LBC_ERR_INGEST_METADATA');
    expect(codeOf(() => kernelIdentity(deb, 'x.deb', { arch: 'aarch64' }))).toBe('LBC_ERR_INGEST_METADATA');
    expect(codeOf(() => kernelIdentity(deb, 'kernel-5.1-1.el8.x86_64.rpm', {}))).toBe('LBC_ERR_INGEST_METADATA');
    expect(codeOf(() => kernelIdentity({ ...rpm, arch: 'ppc64le' }, 'x.rpm', {}))).toBe('LBC_ERR_INGEST_METADATA');
    // BTFHub: the archive's member and the file name must name the same release.
    expect(codeOf(() => kernelIdentity({ format: 'btf-tar', path: '5.4.0-1010-aws.btf' }, '5.4.0-1011-aws.btf.tar.xz', { arch: 'x86_64' }))).toBe('LBC_ERR_INGEST_METADATA');
  });

  it("the kernel image's own header: an arm64 Image is aarch64 even with no arch in the release; a package cannot relabel it", () => {
    const arm = { ...deb, name: 'linux-image-6.1.0-50-cloud-arm64', version: '6.1.176-1', arch: 'arm64', path: '/boot/vmlinuz-6.1.0-50-cloud-arm64', 'image-arch': 'aarch64' };
    expect(kernelIdentity(arm, 'linux-image-6.1.0-50-cloud-arm64_6.1.176-1_arm64.deb', {}).arch).toBe('aarch64');
    expect(codeOf(() => kernelIdentity({ ...arm, arch: 'amd64', name: 'linux-image-6.1.0-50-lab', path: '/boot/vmlinuz-6.1.0-50-lab' }, 'x.deb', {}))).toBe('LBC_ERR_INGEST_METADATA');
    expect(kernelIdentity({ format: 'image', 'image-arch': 'aarch64' }, 'Image', { release: '6.12.0-lab' })).toEqual({ release: '6.12.0-lab', arch: 'aarch64', distro: '' });
    expect(codeOf(() => kernelIdentity({ format: 'image', 'image-arch': 'aarch64' }, 'Image', { release: '6.12.0-lab', arch: 'x86_64' }))).toBe('LBC_ERR_INGEST_METADATA');
  });

  it('raw BTF: release and arch from the admin (or <release>.btf and a release ending in its arch)', () => {
    expect(kernelIdentity({ format: 'btf' }, 'upload.bin', { release: '6.6.0-lab', arch: 'aarch64' })).toEqual({ release: '6.6.0-lab', arch: 'aarch64', distro: '' });
    expect(kernelIdentity({ format: 'btf' }, '5.10.0-1.el8.x86_64.btf', {})).toEqual({ release: '5.10.0-1.el8.x86_64', arch: 'x86_64', distro: '' });
    expect(codeOf(() => kernelIdentity({ format: 'btf' }, 'upload.bin', { arch: 'x86_64' }))).toBe('LBC_ERR_INGEST_METADATA');
    expect(codeOf(() => kernelIdentity({ format: 'btf' }, 'upload.bin', { release: '6.6.0-lab' }))).toBe('LBC_ERR_INGEST_METADATA');
  });
});
