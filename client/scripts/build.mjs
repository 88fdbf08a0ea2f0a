#!/usr/bin/env node
/**
 * Builds the client as plain JavaScript: dist/index.js (the library) and dist/cli.js (`lbc`).
 * Start-up is the point: run from source, registering tsx alone costs ~0.5 s before any lbc code.
 * The workspace packages (@lbc/contract, @lbc/btf) are TypeScript, so they are bundled in both.
 * Code splitting keeps the dynamic imports lazy: the HTTP stack (undici) is its own chunk, loaded
 * by commands that talk to the service only.
 *   node client/scripts/build.mjs             the repository's build: source maps, and the CLI's
 *                                             startup snapshot made here for this node
 *   node client/scripts/build.mjs --package   what `npm pack` ships (prepack): no source maps, type
 *                                             declarations, and the snapshot's bundle only, with its
 *                                             key: an installed package makes the snapshot itself
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { buildCliSnapshot, bundleCliSnapshot } from './snapshot.mjs';
import { emitDeclarations } from './declarations.mjs';
import { SNAPSHOT_V8_FLAGS } from './snapshot-blob.mjs';
import { undiciCore } from './undici-core.mjs';

const forPackage = process.argv.includes('--package');
const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const dist = resolve(root, 'dist');
// Built beside dist/ and swapped in, so a process already running from dist/ (a test, a bench)
// never sees it half-written or empty.
const outdir = resolve(root, `.dist-${process.pid}.tmp`);
const retired = resolve(root, `.dist-${process.pid}.old`);

const common = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: !forPackage,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
};
// Bundled CommonJS (commander) requires node builtins; an ES module has no `require` of its own.
const CJS_REQUIRE = "import { createRequire as __lbcCreateRequire } from 'node:module'; const require = __lbcCreateRequire(import.meta.url);";

try {
  // The library leaves its npm dependencies to the user's install (one undici, patched by them).
  await build({ ...common, entryPoints: { index: 'src/index.ts' }, external: Object.keys(pkg.dependencies ?? {}) });
  // The CLI is an application: commander, ora and their dozens of small modules bundled in start
  // measurably faster than resolved one file at a time (node dist/cli.js --help: ~127 vs ~177 ms).
  // Of undici, only the dispatcher it uses (see undici-core.mjs).
  await build({ ...common, entryPoints: { cli: 'src/cli/main.ts' }, chunkNames: 'cli-chunks/[name]-[hash]', banner: { js: CJS_REQUIRE }, plugins: [undiciCore(root)] });
  if (forPackage) {
    const bundle = await bundleCliSnapshot(root, outdir);
    // bin/lbc finds an installed package's snapshot in the user's cache under this key: the bundle and the flags it is made with.
    writeFileSync(resolve(outdir, 'snapshot.key'), createHash('sha256').update(readFileSync(bundle)).update(SNAPSHOT_V8_FLAGS.join(' ')).digest('hex').slice(0, 16) + '\n');
    emitDeclarations(resolve(root, '..'), resolve(outdir, 'types'));
  }
} catch (error) {
  rmSync(outdir, { recursive: true, force: true });
  throw error;
}
rmSync(retired, { recursive: true, force: true });
try {
  renameSync(dist, retired);
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}
renameSync(outdir, dist);
rmSync(retired, { recursive: true, force: true });
// bin/lbc starts the CLI from a V8 startup snapshot of it when this node can (see snapshot.mjs).
// Made in place, as its stack traces name the files it was built from.
if (!forPackage) await buildCliSnapshot(root, dist);
