/**
 * The client as a guest runs it: client/src bundled (workspace packages and npm dependencies
 * included, so the guest needs no node_modules) beside a package.json, with the native addon at the
 * path the loader looks for it (native/build/Release) and the libraries it links.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { GuestRoot } from '@lbc/core/lab';

const CLIENT = resolve(import.meta.dirname, '../../client');
export const GUEST_CLIENT_DIR = '/lab/client';

// Bundled CommonJS dependencies require node builtins; an ES module has no `require` of its own.
const CJS_REQUIRE = "import { createRequire as __lbcCreateRequire } from 'node:module'; const require = __lbcCreateRequire(import.meta.url);";

/** Adds the library (dist/index.js) and the CLI (dist/cli.js) to the guest, built from the current sources. */
export async function addGuestClient(root: GuestRoot): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'lbc-guest-client-'));
  try {
    await build({
      absWorkingDir: CLIENT,
      entryPoints: { index: 'src/index.ts', cli: 'src/cli/main.ts' },
      outdir: out,
      bundle: true,
      // As client/dist does it: the HTTP stack is a chunk of its own, parsed only on a cache miss
      // (under TCG every kilobyte of JavaScript parsed at start-up shows).
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      banner: { js: CJS_REQUIRE },
      logLevel: 'warning',
    });
    root.addHostTree(out, `${GUEST_CLIENT_DIR}/dist`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  root.addText(`${GUEST_CLIENT_DIR}/package.json`, JSON.stringify({ name: 'lbc-client', type: 'module', main: 'dist/index.js' }));
  root.addHostBinary(join(CLIENT, 'native/build/Release/lbc_native.node'), `${GUEST_CLIENT_DIR}/native/build/Release/lbc_native.node`);
}
