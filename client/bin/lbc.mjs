#!/usr/bin/env node
// Runs the built CLI (dist/, made by `npm install`): plain JavaScript starts in a fraction of the
// time tsx needs. Without a build, or with LBC_CLIENT_FROM_SOURCE=1 (the test suite sets it so the
// CLI under test is the current source), the TypeScript runs in place through tsx.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.js', import.meta.url);
if (process.env.LBC_CLIENT_FROM_SOURCE !== '1' && existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
