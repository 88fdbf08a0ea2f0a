/**
 * The CLI as a V8 startup snapshot (`node --build-snapshot`): a process started from it finds every
 * module already compiled and evaluated, which saves most of what `lbc run` spends before its first
 * event besides node's own start. bin/lbc uses it when the node on PATH is the one that built it
 * (dist/lbc.blob.node records that node's size, mtime and inode) and falls back to dist/cli.js.
 *
 * A snapshot captures the heap at build time, so what it holds must not depend on the machine's
 * state then: the CLI reads its environment only when a command runs (client/src/cli/start.ts
 * defers the parse), and undici, only needed on a cache miss, stays out and is required at run time.
 */
import { spawnSync } from 'node:child_process';
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const RUNTIME_ONLY = /^undici$/;

/** Packages loaded at run time, beside the snapshot, through a require made for dist/cli.js. */
const runtimeRequire = {
  name: 'lbc-runtime-require',
  setup(b) {
    b.onResolve({ filter: RUNTIME_ONLY }, (args) => ({ path: args.path, namespace: 'runtime-require' }));
    b.onLoad({ filter: /.*/, namespace: 'runtime-require' }, (args) => ({
      contents: `module.exports = require('node:module').createRequire(globalThis.__lbcModuleUrl)(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/** The identity bin/lbc compares with the node on PATH: `stat -L -c '%s %Y %i'` (size, mtime, inode). */
export function nodeIdentity(execPath = process.execPath) {
  const st = statSync(execPath);
  return `${st.size} ${Math.floor(st.mtimeMs / 1000)} ${st.ino}`;
}

export async function buildCliSnapshot(root, outdir) {
  const bundle = resolve(outdir, 'cli-snapshot.cjs');
  await build({
    absWorkingDir: root,
    entryPoints: ['src/cli/main.ts'],
    outfile: bundle,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    // The snapshot has no module URL: start.ts sets this global from argv[1] before the command runs.
    define: { 'import.meta.url': 'globalThis.__lbcModuleUrl' },
    plugins: [runtimeRequire],
  });
  // Written beside and renamed in: bin/lbc never starts from a half-written blob.
  const blob = resolve(outdir, 'lbc.blob');
  const partial = resolve(outdir, `.lbc.blob.${process.pid}.tmp`);
  const made = spawnSync(process.execPath, ['--snapshot-blob', partial, '--build-snapshot', bundle], { cwd: outdir, encoding: 'utf8' });
  if (made.status !== 0) {
    // Not fatal: bin/lbc runs dist/cli.js without it.
    process.stderr.write(`lbc-client: no CLI startup snapshot (node --build-snapshot exited ${made.status}):\n${made.stderr}\n`);
    rmSync(partial, { force: true });
    return;
  }
  writeFileSync(resolve(outdir, 'lbc.blob.node'), `${nodeIdentity()}\n`);
  renameSync(partial, blob);
}

