import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['btf/test/**/*.test.ts', 'contract/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'client/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Kernel and Docker tests share global state (bpffs, tracefs, one engine): run files one at a time.
    fileParallelism: false,
    reporters: ['default'],
  },
});
