export * from './lab-kernels.ts';
export * from './cpio.ts';
export * from './guest-root.ts';
export * from './guest-console.ts';
export * from './guest-image.ts';
export * from './boot-guest.ts';
export * from './run-bounded.ts';
export * from './pvh-kernel.ts';
