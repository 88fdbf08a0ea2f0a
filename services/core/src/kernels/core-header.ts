/**
 * The header a CO-RE program is compiled against, once per arch: the newest kernel the service
 * trusts on that arch. Trusted means the host's own kernel or one ingested from a distro package
 * (an admin's act); uploads are not, since whichever header wins serves every tenant's compiles
 * (one crafted upload named 99.0 must not become everyone's header). The newest, because CO-RE
 * programs name fields of newer kernels behind bpf_core_field_exists() and relocate the rest: a
 * newer header compiles what an older one cannot, and the loader fits the object to older kernels.
 * When the target itself is newer than every trusted kernel, its own header is the newest there is.
 */
import type { Arch, KernelInfo } from '@lbc/contract';

const TRUSTED_SOURCES = new Set(['host', 'package']);

/** Numeric components of a release: 6.12.118+deb13-cloud-amd64 → [6, 12, 118, 13]. */
function versionOf(release: string): number[] {
  return (release.match(/\d+/g) ?? []).map(Number);
}

/** Negative when release a is older than b (numeric components compared in order). */
export function compareReleases(a: string, b: string): number {
  const x = versionOf(a);
  const y = versionOf(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** The newest of the trusted kernels of `arch` and the target; ties go to the most recently added. */
export function newestHeader(kernels: readonly KernelInfo[], arch: Arch, target: KernelInfo): KernelInfo {
  let best = target;
  for (const k of kernels) {
    if (k.arch !== arch || !TRUSTED_SOURCES.has(k.source) || k.btfSha256 === target.btfSha256) continue;
    const order = compareReleases(k.release, best.release);
    if (order > 0 || (order === 0 && best !== target && k.createdAt > best.createdAt)) best = k;
  }
  return best;
}
