export { ObjectCache, type CacheEntry, type CachedObject } from './object-cache.ts';
export { requestKey, type RequestKeyInput } from './request-key.ts';
export { resolveCacheDir } from './cache-dir.ts';
export { writeFileAtomic } from './atomic-write.ts';
