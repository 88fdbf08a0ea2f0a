export * from './queue/jobs.ts';
export * from './kernels/btf-store.ts';
