import os from 'node:os';
import { join } from 'node:path';

/** cacheDir option → LBC_CACHE → $XDG_CACHE_HOME/lbc → ~/.cache/lbc. */
export function resolveCacheDir(option?: string): string {
  if (option) return option;
  if (process.env.LBC_CACHE) return process.env.LBC_CACHE;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(os.homedir(), '.cache'), 'lbc');
}
