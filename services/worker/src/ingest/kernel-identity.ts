/**
 * A kernel's identity (release as `uname -r` prints it, arch, distro as /etc/os-release ID) from
 * what the ingest container read out of the package, checked against the file name and the
 * admin's hints. Contradictions are errors: a kernel registered under the wrong release would
 * silently serve wrong offsets.
 */
import { ARCHES, LbcError, type Arch } from '@lbc/contract';
import type { IngestHints } from '@lbc/core';
import { parsePackageFileName, withoutEpoch } from './package-name.ts';

/** `@meta KEY VALUE` lines of the ingest container. */
export type PackageFacts = Record<string, string>;

export interface KernelIdentity {
  release: string;
  arch: Arch;
  distro: string;
}

const ARCH_ALIASES: Record<string, Arch> = { x86_64: 'x86_64', amd64: 'x86_64', aarch64: 'aarch64', arm64: 'aarch64' };

/** /etc/os-release IDs by RPM vendor and by dist tag in the RPM release (5.10.134-16.al8 → al). */
const RPM_VENDORS: [RegExp, string][] = [
  [/centos/i, 'centos'], [/red hat/i, 'rhel'], [/rocky/i, 'rocky'], [/alma/i, 'almalinux'], [/anolis/i, 'anolis'],
  [/alibaba|alinux/i, 'alinux'], [/fedora/i, 'fedora'], [/oracle/i, 'ol'], [/amazon/i, 'amzn'], [/opencloudos/i, 'opencloudos'],
  [/openeuler/i, 'openEuler'], [/suse/i, 'sles'],
];
const DIST_TAGS: [RegExp, string][] = [
  [/\.al\d/, 'alinux'], [/\.an\d/, 'anolis'], [/\.el\d/, 'rhel'], [/\.fc\d/, 'fedora'], [/\.amzn\d/, 'amzn'], [/\.oc\d/, 'opencloudos'],
  [/\.oe\d/, 'openEuler'], [/\.ol\d/, 'ol'],
];

const fail = (why: string, details?: Record<string, unknown>): never => {
  throw new LbcError('LBC_ERR_INGEST_METADATA', why, details);
};

/** The release a kernel image path names: /boot/vmlinuz-R, …/debug/boot/vmlinux-R, …/lib/modules/R/vmlinux, R.btf. */
export function releaseFromPath(path: string): string | undefined {
  const m =
    /\/lib\/modules\/([^/]+)\/vmlinu[xz][^/]*$/.exec(path) ??
    /\/vmlinu[xz]-([^/]+)$/.exec(path) ??
    /(?:^|\/)([^/]+)\.btf$/.exec(path);
  return m?.[1];
}

function archFromRelease(release: string): Arch | undefined {
  const m = /[.-](x86_64|amd64|aarch64|arm64)$/.exec(release);
  return m ? ARCH_ALIASES[m[1]!] : undefined;
}

function distroFromFacts(facts: PackageFacts): string | undefined {
  if (facts.format === 'rpm') {
    const who = `${facts.vendor ?? ''} ${facts.distribution ?? ''}`.replace(/\(none\)/g, '');
    for (const [re, id] of RPM_VENDORS) if (re.test(who)) return id;
    for (const [re, id] of DIST_TAGS) if (re.test(`.${facts.release ?? ''}`.replace(/^\.+/, '.'))) return id;
    return undefined;
  }
  if (facts.format === 'deb') {
    const who = `${facts.version ?? ''} ${facts.maintainer ?? ''}`;
    return /ubuntu|canonical/i.test(who) ? 'ubuntu' : 'debian';
  }
  return undefined;
}

/** Two sources of one fact must agree; either may be missing. */
function agree(what: string, a: { from: string; value?: string }, b: { from: string; value?: string }): string | undefined {
  if (a.value && b.value && a.value !== b.value) fail(`the ${a.from} says ${what} ${JSON.stringify(a.value)} but the ${b.from} says ${JSON.stringify(b.value)}`);
  return a.value || b.value || undefined;
}

function checkFileName(fileName: string, facts: PackageFacts): void {
  const claim = parsePackageFileName(fileName);
  const differs = (field: string, named: string, actual: string | undefined) => {
    if (actual !== undefined && named !== actual) fail(`the file name ${JSON.stringify(fileName)} says ${field} ${JSON.stringify(named)} but the package says ${JSON.stringify(actual)}`, { fileName, field });
  };
  if (claim.kind === 'rpm' && facts.format === 'rpm') {
    differs('name', claim.name, facts.name);
    differs('version', claim.version, facts.version);
    differs('release', claim.release, facts.release);
    differs('arch', claim.arch, facts.arch);
  } else if (claim.kind === 'deb' && facts.format === 'deb') {
    differs('name', claim.name, facts.name);
    differs('version', withoutEpoch(claim.version), facts.version && withoutEpoch(facts.version));
    differs('arch', claim.arch, facts.arch);
  } else if (claim.kind !== 'none' && claim.kind !== 'btf' && claim.kind !== facts.format) {
    fail(`the file name ${JSON.stringify(fileName)} says it is a .${claim.kind} but its content is ${facts.format ?? 'unknown'}`, { fileName });
  }
}

export function kernelIdentity(facts: PackageFacts, fileName: string, hints: IngestHints): KernelIdentity {
  checkFileName(fileName, facts);
  const fromPath = facts.path ? releaseFromPath(facts.path) : undefined;
  const claim = parsePackageFileName(fileName);
  let release: string | undefined;
  if (facts.format === 'btf' || facts.format === 'vmlinux' || facts.format === 'image') {
    // A bare file carries no metadata: the admin's word, else its name (<release>.btf).
    release = hints.release || (claim.kind === 'btf' ? claim.kernelRelease : undefined);
  } else {
    const fromName = claim.kind === 'btf' && facts.format === 'btf-tar' ? claim.kernelRelease : undefined;
    release = agree('release', { from: 'archive member', value: fromPath }, { from: 'file name', value: fromName });
    release = agree('release', { from: 'package', value: release }, { from: 'request', value: hints.release });
  }
  if (!release) fail('the kernel release is not in the package; pass it (release / --release)');
  if (!/^[A-Za-z0-9._+~-]{1,128}$/.test(release!)) fail(`the kernel release ${JSON.stringify(release)} has unexpected characters`);

  const pkgArch = facts.arch && facts.arch !== 'noarch' && facts.arch !== 'all' ? ARCH_ALIASES[facts.arch] ?? fail(`unsupported architecture ${JSON.stringify(facts.arch)} (supported: ${ARCHES.join(', ')})`) : undefined;
  let arch = agree('arch', { from: 'package', value: pkgArch }, { from: 'kernel release', value: archFromRelease(release!) });
  // The image's own header (ELF machine, arm64 Image magic): a package cannot relabel its kernel.
  arch = agree('arch', { from: 'package', value: arch }, { from: 'kernel image', value: ARCH_ALIASES[facts['image-arch'] ?? ''] });
  arch = agree('arch', { from: 'package', value: arch }, { from: 'request', value: hints.arch });
  if (!arch) fail(`the architecture of ${release} is not in the package; pass it (arch / --arch: ${ARCHES.join(' or ')})`);

  // A dist tag cannot tell CentOS from RHEL: the admin's word wins for the distro.
  const distro = hints.distro || distroFromFacts(facts) || '';
  return { release: release!, arch: arch as Arch, distro };
}
