export * from './jobs.ts';
export * from './package-access.ts';
export * from './boot-image-fetch.ts';
