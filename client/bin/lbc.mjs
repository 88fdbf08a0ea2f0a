#!/usr/bin/env node
// Runs the built CLI (dist/: `npm run build` in the repository, shipped in the package): plain
// JavaScript starts in a fraction of the time tsx needs. Without a build, or with
// LBC_CLIENT_FROM_SOURCE=1 (the test suite sets it so the CLI under test is the current source),
// the TypeScript runs in place through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli.js', import.meta.url);
if (process.env.LBC_CLIENT_FROM_SOURCE !== '1' && existsSync(built)) {
  // An installed package (dist/snapshot.key, no dist/lbc.blob) reaches here while the user's cache
  // has no startup snapshot for this node (bin/lbc would have used it): one is made in the
  // background, detached, for the next start.
  if (existsSync(new URL('../dist/snapshot.key', import.meta.url)) && !existsSync(new URL('../dist/lbc.blob', import.meta.url))) {
    const maker = fileURLToPath(new URL('../scripts/snapshot-blob.mjs', import.meta.url));
    const { spawn } = await import('node:child_process');
    spawn(process.execPath, [maker], { detached: true, stdio: 'ignore' }).unref();
  }
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
