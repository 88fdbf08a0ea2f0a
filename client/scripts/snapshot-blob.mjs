#!/usr/bin/env node
/**
 * Makes the CLI's V8 startup snapshot (`node --build-snapshot`) from its bundle, dist/cli-snapshot.cjs
 * (client/scripts/snapshot.mjs writes it), and ties it to the node that made it. Shipped in the
 * package, without esbuild: a snapshot belongs to one node binary, so an installed package makes
 * its own on the user's machine.
 *   - In the repository, `npm run build` makes it in dist/ (bin/lbc checks dist/lbc.blob first).
 *   - Installed, bin/lbc.mjs runs this file in the background at the CLI's first start:
 *     `node scripts/snapshot-blob.mjs` writes into the user's cache (snapshotCacheDir below), and
 *     the next start of bin/lbc runs from there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where an installed package keeps its snapshot: one directory per bundle content (dist/snapshot.key
 * holds its hash, written at pack time), in $XDG_CACHE_HOME or ~/.cache. bin/lbc computes the same
 * path with shell built-ins: keep the two in step.
 */
export function snapshotCacheDir(dist, env = process.env) {
  const key = readFileSync(join(dist, 'snapshot.key'), 'utf8').trim();
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'lbc-client', `snapshot-${key}`);
}

/**
 * The V8 flags a snapshot is made with. V8 refuses to start from a snapshot under other flags that
 * change its heap: DIR/lbc.flags beside the blob holds them, and bin/lbc passes what it reads there.
 * - --no-rehash-snapshot: V8 otherwise rehashes every hash table in the snapshot at each start, for
 *   a hash seed of the process's own: ~9 ms of every `lbc` start here (`lbc --version` 46 -> 37 ms).
 *   The tables keep the random seed of the process that made the snapshot, one per machine (an
 *   installed package makes its own), which a service's answer cannot know to collide keys.
 * The package's snapshot key covers them: a change makes a new snapshot.
 */
export const SNAPSHOT_V8_FLAGS = ['--no-rehash-snapshot'];

/**
 * Writes DIR/lbc.blob from BUNDLE with this node. The old blob goes first and the new one is
 * renamed in last, so bin/lbc never pairs a blob with another node's record or flags, or reads it
 * half-written.
 * Returns an error message, or undefined when the snapshot was made.
 */
export function makeSnapshotBlob(bundle, dir) {
  mkdirSync(dir, { recursive: true });
  const blob = resolve(dir, 'lbc.blob');
  const partial = resolve(dir, `.lbc.blob.${process.pid}.tmp`);
  // In the bundle's directory: the snapshot's stack traces name the files it was built from.
  const made = spawnSync(process.execPath, [...SNAPSHOT_V8_FLAGS, '--snapshot-blob', partial, '--build-snapshot', bundle], { cwd: resolve(bundle, '..'), encoding: 'utf8' });
  if (made.status !== 0) {
    rmSync(partial, { force: true });
    return `node --build-snapshot exited ${made.status}:\n${made.stderr}`;
  }
  rmSync(blob, { force: true });
  try {
    writeFileSync(resolve(dir, 'lbc.flags'), `${SNAPSHOT_V8_FLAGS.join(' ')}\n`);
    recordNode(dir);
  } catch (error) {
    rmSync(partial, { force: true });
    return error.message;
  }
  renameSync(partial, blob);
  return undefined;
}

/**
 * Ties the snapshot to the node that made it, in a form bin/lbc checks with shell built-ins alone
 * (a `stat` process cost 1.4 ms of every start): DIR/lbc.node links to that node, and
 * DIR/lbc.node.mtime carries its modification time (`touch -r`, to the nanosecond). A node
 * replaced or upgraded in place has another time, and bin/lbc then runs dist/cli.js instead.
 */
function recordNode(dir) {
  const node = realpathSync(process.execPath);
  const link = resolve(dir, 'lbc.node');
  const stamp = resolve(dir, 'lbc.node.mtime');
  rmSync(link, { force: true });
  symlinkSync(node, link);
  const touched = spawnSync('touch', ['-r', node, stamp], { encoding: 'utf8' });
  if (touched.status !== 0) throw new Error(`touch -r ${node} ${stamp}: ${touched.stderr || touched.error}`);
}

/**
 * The first-start build of an installed package: into the user's cache, once per node (a failure
 * is remembered for the node that failed, so a node without snapshot support is not asked again).
 */
function buildIntoCache() {
  const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
  const dir = snapshotCacheDir(dist);
  mkdirSync(dir, { recursive: true });
  const node = realpathSync(process.execPath);
  const failed = join(dir, 'failed');
  const nodeId = `${node} ${statSync(node).mtimeMs}`;
  if (existsSync(failed) && readFileSync(failed, 'utf8') === nodeId) return;
  // One builder at a time: mkdir is atomic; a lock older than a minute was left by a killed one.
  const lock = join(dir, '.building');
  try {
    mkdirSync(lock);
  } catch {
    if (Date.now() - statSync(lock).mtimeMs < 60_000) return;
  }
  try {
    const error = makeSnapshotBlob(join(dist, 'cli-snapshot.cjs'), dir);
    if (error) writeFileSync(failed, nodeId);
    pruneOldSnapshots(dir);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Each package version makes its own snapshot (~5 MB): those of other versions not remade for a
 * month (an upgraded or removed install) are removed. Another install still in use remakes its own.
 */
function pruneOldSnapshots(current) {
  const parent = dirname(current);
  const monthAgo = Date.now() - 30 * 24 * 3600 * 1000;
  for (const name of readdirSync(parent)) {
    const dir = join(parent, name);
    if (!name.startsWith('snapshot-') || dir === current) continue;
    try {
      if (statSync(dir).mtimeMs < monthAgo) rmSync(dir, { recursive: true, force: true });
    } catch {
      // removed by another process meanwhile
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) buildIntoCache();
