/**
 * Loads the native libbpf shim (client/native: prebuilt in the package, or built from source) and
 * presents it as the NativeAddon interface of types.ts.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LbcError } from '@lbc/contract';
import { addonPath, explainLoadFailure } from './addon-path.ts';
import { sliceRecords, type RawAddon } from './raw-addon.ts';
import type { NativeAddon } from './types.ts';

export type * from './types.ts';

let cached: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (cached) return cached;
  // From the package root, not from this file: it runs from src/native/ and, bundled, from dist/.
  const path = addonPath(packageRoot(dirname(fileURLToPath(import.meta.url))));
  // process.dlopen, not require(): the addon's path is known, and the module resolver's package
  // lookups and realpath calls cost more than the dlopen itself (~2 ms against ~0.7 ms on `lbc run`).
  const addon = { exports: {} as RawAddon };
  try {
    process.dlopen(addon, path);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new LbcError('LBC_ERR_NATIVE', explainLoadFailure(path, reason), { path }, { cause });
  }
  cached = adapt(addon.exports);
  return cached;
}

/**
 * Loads the addon ahead of its first use, where a process has time to spare (while the service
 * compiles its object). A failure is not reported here: it stays for the loadNative() call that
 * needs the addon, which tries again and throws it where it always did.
 */
export function preloadNative(): void {
  try {
    loadNative();
  } catch {
    // reported by the loadNative() that needs the addon
  }
}

/** The nearest directory at or above `dir` holding a package.json: the client package's root. */
function packageRoot(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'package.json'))) return at;
    if (dirname(at) === at) return dir;
  }
}

function adapt(raw: RawAddon): NativeAddon {
  return {
    ...raw,
    openPacketSocket: (ifindex, progFd, onPackets) => raw.openPacketSocket(ifindex, progFd, (arena, ends) => onPackets(sliceRecords(arena, ends))),
    openRingBuffer: (mapFd, onBatch) => raw.openRingBuffer(mapFd, (arena, ends) => onBatch(sliceRecords(arena, ends))),
    openPerfBuffer: (mapFd, pageCount, onBatch, onLost) =>
      raw.openPerfBuffer(mapFd, pageCount, (arena, ends, cpus) => onBatch(sliceRecords(arena, ends), Array.from(cpus)), onLost),
  };
}
