/**
 * The CLI as a V8 startup snapshot (`node --build-snapshot`): a process started from it finds every
 * module already compiled and evaluated, which saves most of what `lbc run` spends before its first
 * event besides node's own start. bin/lbc starts it with the node that built it while that node is
 * unchanged (see snapshot-blob.mjs) and falls back to dist/cli.js.
 *
 * A snapshot captures the heap at build time, so what it holds must not depend on the machine's
 * state then: the CLI reads its environment only when a command runs (client/src/cli/start.ts
 * defers the parse). undici's dispatcher (scripts/undici-core.mjs) is bundled in and evaluated: a
 * command that talks to the service finds it ready (its llhttp WebAssembly is compiled at the first
 * connection). undici's node:http is a stand-in there: node:http's parser handles cannot be serialized.
 */
import * as childProcess from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { makeSnapshotBlob } from './snapshot-blob.mjs';
import { undiciCore } from './undici-core.mjs';

/**
 * Node built-ins required at module level (commander requires child_process) that `lbc run` never
 * calls: each costs its deserialization at every start. In the snapshot they are stand-ins with
 * the same exports, which require the real module on first use.
 */
const LAZY_BUILTINS = { 'node:child_process': Object.keys(childProcess) };
/**
 * Built-ins every command needs but none requires at module level: process.stdout and stderr are
 * net sockets on pipes and tty streams on terminals. Required while the snapshot is built, they are
 * deserialized with it instead of compiled at first write (child_process used to bring net along).
 */
const EAGER_BUILTINS = ['node:net', 'node:tty'];

const lazyBuiltins = {
  name: 'lbc-lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(LAZY_BUILTINS).join('|')})$`);
    // The stand-in's own require gets the real module.
    b.onResolve({ filter }, (args) => (args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: [
        'let real;',
        ...LAZY_BUILTINS[args.path].map(
          (name) => `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, get: () => (real ??= require(${JSON.stringify(args.path)}))[${JSON.stringify(name)}] });`,
        ),
      ].join('\n'),
      loader: 'js',
    }));
  },
};

/** Writes dist/cli-snapshot.cjs, the CLI bundled for a snapshot, which snapshot-blob.mjs turns into one. */
export async function bundleCliSnapshot(root, outdir) {
  const bundle = resolve(outdir, 'cli-snapshot.cjs');
  await build({
    absWorkingDir: root,
    // undici's core is evaluated into the snapshot (~10 ms of every command that talks to the
    // service): a side-effect import of it ahead of the CLI, which imports it lazily itself.
    // Then one request runs through it (undici-warmup.mjs), so that its functions are compiled too.
    // The service client (which the CLI imports lazily too) is evaluated ahead as well, with node:module
    // that its HTTPS CA option needs: ~3 ms of every such command, and less to compile.
    stdin: {
      contents: "import 'undici';\nimport 'node:module';\nimport './src/transport/service-client.ts';\nimport './src/cli/main.ts';\nimport { warmUpUndici } from './scripts/undici-warmup.mjs';\nwarmUpUndici();",
      resolveDir: root,
      sourcefile: 'cli-snapshot-entry.ts',
      loader: 'ts',
    },
    outfile: bundle,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    // The snapshot keeps every function's source: without comments and whitespace it is ~0.6 MB
    // smaller and starts ~2 ms sooner. Names stay, for readable stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    // The snapshot has no module URL: start.ts sets this global from argv[1] before the command runs.
    define: { 'import.meta.url': 'globalThis.__lbcModuleUrl' },
    plugins: [undiciCore(root), lazyBuiltins],
    footer: { js: EAGER_BUILTINS.map((name) => `require(${JSON.stringify(name)});`).join('') },
  });
  assertOneByteSource(bundle);
  return bundle;
}

/**
 * The snapshot keeps the bundle's source as one string, and V8 stores a string with a single
 * character past U+00FF in two bytes per character: one arrow in a regular expression (which esbuild
 * leaves as written, unlike string literals, which it escapes) made the snapshot 0.8 MB larger and
 * every start slower by reading and deserializing it. Written \uXXXX instead, it stays one byte.
 */
export function assertOneByteSource(bundle) {
  const source = readFileSync(bundle, 'utf8');
  const at = source.search(/[^\u0000-\u00ff]/u);
  if (at >= 0) {
    const char = source.codePointAt(at);
    throw new Error(`${bundle}: U+${char.toString(16).toUpperCase().padStart(4, '0')} at ${JSON.stringify(source.slice(Math.max(0, at - 60), at + 20))}: write it as a \\u escape (see assertOneByteSource)`);
  }
}

/** The bundle and its snapshot in dist/, for bin/lbc in the repository (made in place). */
export async function buildCliSnapshot(root, outdir) {
  const bundle = await bundleCliSnapshot(root, outdir);
  const error = makeSnapshotBlob(bundle, outdir);
  // Not fatal: bin/lbc runs dist/cli.js without it.
  if (error) process.stderr.write(`lbc-client: no CLI startup snapshot: ${error}\n`);
}
