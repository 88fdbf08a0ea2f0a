/**
 * Where the native addon is, and what a failed load means on the machine it failed on.
 *
 * The package ships prebuilt addons in node-gyp-build's layout (prebuilds/<platform>-<arch>/,
 * tags napi and glibc: client/native/scripts/prebuild.sh). A build from source in native/build
 * (`npx node-gyp rebuild`, the development build, or a platform without a prebuilt one) comes
 * first, as node-gyp-build orders them. The two candidates are fixed paths: checking them costs
 * one stat, where a resolver's directory scans would cost more than the dlopen that follows.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const BUILT_FROM_SOURCE = join('native', 'build', 'Release', 'lbc_native.node');
export const PREBUILT_PLATFORMS = ['linux-x64', 'linux-arm64'];

/** The addon to load from the package at `root`, or the prebuilt one's path when neither exists. */
export function addonPath(root: string): string {
  const built = join(root, BUILT_FROM_SOURCE);
  if (existsSync(built)) return built;
  return join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'lbc_native.napi.glibc.node');
}

const BUILD_FROM_SOURCE =
  'build it from source: install a C++ compiler, make, python3, libbpf-dev (>= 1.0), libelf-dev and zlib1g-dev, then `npm install node-addon-api && npx node-gyp rebuild --directory node_modules/lbc-client/native`';

/** The libraries a prebuilt addon links dynamically, with the packages that provide them. */
const LIBRARY_PACKAGES: Record<string, string> = {
  'libelf.so.1': 'libelf1 (Debian, Ubuntu) or elfutils-libelf (Fedora, RHEL)',
  'libz.so.1': 'zlib1g (Debian, Ubuntu) or zlib (Fedora, RHEL)',
  'libbpf.so.1': 'libbpf1 (Debian, Ubuntu) or libbpf (Fedora, RHEL), or remove native/build to use the prebuilt addon',
  'libstdc++.so.6': 'libstdc++6 (Debian, Ubuntu) or libstdc++ (Fedora, RHEL)',
};

/** Names what is missing when process.dlopen(path) failed with `reason`. */
export function explainLoadFailure(path: string, reason: string, exists = existsSync(path)): string {
  const platform = `${process.platform}-${process.arch}`;
  if (!exists) {
    return PREBUILT_PLATFORMS.includes(platform)
      ? `${path} is missing (the package is incomplete: reinstall lbc-client)`
      : `no prebuilt addon for ${platform} (prebuilt: ${PREBUILT_PLATFORMS.join(', ')} with glibc); ${BUILD_FROM_SOURCE}`;
  }
  const library = /^(\S+\.so[.\d]*): cannot open shared object file/.exec(reason)?.[1];
  if (library) return `${reason}: install ${LIBRARY_PACKAGES[library] ?? `the package that provides ${library}`}`;
  const version = /version `(GLIBC(?:XX)?_[\d.]+)' not found/.exec(reason)?.[1];
  if (version) return `${reason}: this system's C or C++ library is older than the prebuilt addon needs (${version}); ${BUILD_FROM_SOURCE}`;
  // musl (Alpine) cannot load a glibc addon; its loader's messages name symbols, not versions.
  if (/Error relocating|symbol not found|ld-linux/.test(reason)) return `${reason}: the prebuilt addon needs glibc; ${BUILD_FROM_SOURCE}`;
  return reason;
}
