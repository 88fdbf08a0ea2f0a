export * from './errors.ts';
export * from './api.ts';
export * from './limits.ts';
export * from './cflags.ts';
export * from './canonical-hash.ts';
export * from './cache-key.ts';
export * from './catalog.ts';
export * from './ingest.ts';
