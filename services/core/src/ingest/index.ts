export * from './jobs.ts';
export * from './ingest-records.ts';
export * from './ingest-settings.ts';
export * from './spool.ts';
export * from './ingest-service.ts';
export * from './package-access.ts';
export * from './package-origin.ts';
export * from './boot-image-fetch.ts';
