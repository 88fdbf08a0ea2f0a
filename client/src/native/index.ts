/**
 * Loads the native libbpf shim (client/native, built by `npm install`) and presents it as the
 * NativeAddon interface of types.ts.
 */
import { createRequire } from 'node:module';
import { LbcError } from '@lbc/contract';
import { sliceRecords, type RawAddon } from './raw-addon.ts';
import type { NativeAddon } from './types.ts';

export type * from './types.ts';

const ADDON_PATH = '../../native/build/Release/lbc_native.node';

let cached: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (cached) return cached;
  let raw: RawAddon;
  try {
    raw = createRequire(import.meta.url)(ADDON_PATH) as RawAddon;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new LbcError('LBC_ERR_NATIVE', reason, { path: ADDON_PATH }, { cause });
  }
  cached = adapt(raw);
  return cached;
}

function adapt(raw: RawAddon): NativeAddon {
  return {
    ...raw,
    openRingBuffer: (mapFd, onBatch) => raw.openRingBuffer(mapFd, (arena, ends) => onBatch(sliceRecords(arena, ends))),
    openPerfBuffer: (mapFd, pageCount, onBatch, onLost) =>
      raw.openPerfBuffer(mapFd, pageCount, (arena, ends, cpus) => onBatch(sliceRecords(arena, ends), Array.from(cpus)), onLost),
  };
}
