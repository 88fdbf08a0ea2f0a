/**
 * What a package's file name says about it, by the distributions' own naming conventions:
 * NAME-VERSION-RELEASE.ARCH.rpm, NAME_VERSION_ARCH.deb (epoch dropped or %3a-escaped),
 * <release>.btf.tar.xz (BTFHub), <release>.btf. Names that follow none of them say nothing.
 */
export type FileNameClaim =
  | { kind: 'rpm'; name: string; version: string; release: string; arch: string }
  | { kind: 'deb'; name: string; version: string; arch: string }
  | { kind: 'btf'; kernelRelease: string }
  | { kind: 'none' };

export function parsePackageFileName(fileName: string): FileNameClaim {
  const base = fileName.split('/').pop() ?? fileName;
  let m = /^(.+)-([^-]+)-([^-]+)\.([A-Za-z0-9_]+)\.rpm$/.exec(base);
  if (m) return { kind: 'rpm', name: m[1]!, version: m[2]!, release: m[3]!, arch: m[4]! };
  m = /^([a-z0-9][a-z0-9+.-]*)_([^_]+)_([a-z0-9-]+)\.d?deb$/.exec(base);
  if (m) return { kind: 'deb', name: m[1]!, version: decodeURIComponent(m[2]!), arch: m[3]! };
  m = /^(.+)\.btf(\.tar\.xz)?$/.exec(base);
  if (m) return { kind: 'btf', kernelRelease: m[1]! };
  return { kind: 'none' };
}

/** Debian file names drop the epoch ("1:"), so versions are compared without it. */
export const withoutEpoch = (version: string): string => version.replace(/^\d+:/, '');
