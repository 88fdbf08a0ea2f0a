import { LbcError, ARCHES, SHA256_PATTERN, type Arch } from '@lbc/contract';
import { detectTarget, normalizeArch, type DetectedTarget } from '../target/detect-target.ts';
import { resolveCacheDir } from '../cache/cache-dir.ts';

export interface TargetFlags {
  release?: string;
  arch?: string;
  distro?: string;
  btfSha?: string;
}

/**
 * Explicit --release/--arch compile for another machine (no upload possible); otherwise the running
 * kernel. A --release without --arch leaves the arch to the service: the release on whichever arch
 * it has it for (this machine's arch is no guess for another machine's kernel).
 */
export function targetFromFlags(flags: TargetFlags): DetectedTarget {
  if (!flags.release && !flags.btfSha) {
    // The BTF hash remembered for this boot in the client cache, as `lbc run` does: hashing the
    // kernel's 5 MB BTF at every `lbc compile` cost more than the cache hit it was asking for.
    const t = detectTarget({ rememberIn: resolveCacheDir() });
    if (flags.distro) t.distro = flags.distro;
    if (flags.arch) t.arch = parseArch(flags.arch);
    return t;
  }
  const target: DetectedTarget = { release: flags.release ?? detectTarget({ btfPath: '' }).release };
  if (flags.arch) target.arch = parseArch(flags.arch);
  if (flags.distro) target.distro = flags.distro;
  if (flags.btfSha) {
    if (!SHA256_PATTERN.test(flags.btfSha)) throw new LbcError('LBC_ERR_BAD_REQUEST', `--btf-sha must be 64 lowercase hex digits, got ${JSON.stringify(flags.btfSha)}`);
    target.btfSha256 = flags.btfSha;
  }
  return target;
}

function parseArch(name: string): Arch {
  const arch = normalizeArch(name);
  if (!arch) throw new LbcError('LBC_ERR_BAD_REQUEST', `--arch ${JSON.stringify(name)} is not one of ${ARCHES.join(', ')}`);
  return arch;
}
