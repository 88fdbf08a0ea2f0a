export * from './jobs.ts';
export * from './package-access.ts';
