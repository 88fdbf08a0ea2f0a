import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // lbc-client's package exports point at its build (dist/); the tests exercise the sources.
  resolve: { alias: [{ find: /^lbc-client$/, replacement: fileURLToPath(new URL('./client/src/index.ts', import.meta.url)) }] },
  test: {
    // The same for what the tests spawn: the lbc executable (client/bin/lbc.mjs) and node processes
    // importing 'lbc-client' (its exports' lbc-source condition). client/test/dist.test.ts runs the build.
    env: { LBC_CLIENT_FROM_SOURCE: '1', NODE_OPTIONS: [process.env.NODE_OPTIONS, '--conditions=lbc-source'].filter(Boolean).join(' ') },
    include: ['btf/test/**/*.test.ts', 'contract/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'client/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Kernel and Docker tests share global state (bpffs, tracefs, one engine): run files one at a time.
    fileParallelism: false,
    reporters: ['default'],
  },
});
