export * from './jobs.ts';
export * from './package-name.ts';
export * from './kernel-identity.ts';
export * from './ingest-records.ts';
export * from './ingest-settings.ts';
export * from './spool.ts';
export * from './ingest-service.ts';
