/**
 * An arm64 node to run under qemu-aarch64 user emulation (Debian's qemu-user): Debian trixie's
 * nodejs and the arm64 libraries it and the prebuilt addon need, unpacked from the archive's .debs
 * through a private apt configuration (the system's sources are never touched) into a root that
 * `qemu-aarch64 -L ROOT` resolves libraries in. Built once, cached beside the native build's cache.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { debianMirror, nativeCacheDir } from './bare-target.ts';

const SUITE = 'trixie';
// nodejs's run-time closure on arm64 (apt-cache depends --recurse, less what a node process never
// opens) plus the addon's libelf; node-* carry the JavaScript node loads from /usr/share/nodejs.
const PACKAGES = [
  'nodejs', 'libnode115', 'libc6', 'libgcc-s1', 'libstdc++6', 'gcc-14-base', 'libbrotli1', 'libcares2', 'libicu76', 'libnghttp2-14',
  'libssl3t64', 'libuv1t64', 'libzstd1', 'zlib1g', 'libelf1t64',
  'node-acorn', 'node-cjs-module-lexer', 'node-undici', 'node-xtend', 'node-minimatch', 'node-balanced-match', 'node-brace-expansion',
];

/** The cached root: ROOT/usr/bin/node is arm64 node 20. */
export async function arm64NodeRoot(): Promise<string> {
  const root = join(nativeCacheDir(), `arm64-node-${SUITE}`);
  if (existsSync(join(root, '.complete'))) return root;
  const apt = join(nativeCacheDir(), `apt-arm64-${SUITE}`);
  for (const d of ['lists/partial', 'cache/archives/partial', 'debs']) mkdirSync(join(apt, d), { recursive: true });
  writeFileSync(join(apt, 'status'), '');
  writeFileSync(join(apt, 'sources.list'), `deb ${debianMirror()} ${SUITE} main\n`);
  const options = [
    '-q', '-o', `Dir::Etc::sourcelist=${join(apt, 'sources.list')}`, '-o', 'Dir::Etc::sourceparts=-', '-o', `Dir::State::Lists=${join(apt, 'lists')}`,
    '-o', `Dir::Cache=${join(apt, 'cache')}`, '-o', 'APT::Architecture=arm64', '-o', 'APT::Architectures::=arm64',
    '-o', `Dir::State::status=${join(apt, 'status')}`, '-o', 'APT::Sandbox::User=root',
  ];
  const run = promisify(execFile);
  await run('apt-get', [...options, 'update', '-qq']);
  const debs = join(apt, 'debs');
  rmSync(debs, { recursive: true, force: true });
  mkdirSync(debs);
  await run('apt-get', [...options, 'download', ...PACKAGES.map((p) => `${p}:arm64`)], { cwd: debs });
  const partial = `${root}.${process.pid}.tmp`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  for (const deb of readdirSync(debs)) execFileSync('dpkg-deb', ['-x', join(debs, deb), partial]);
  // trixie is merged-/usr: the program interpreter /lib/ld-linux-aarch64.so.1 is under usr/lib.
  if (!existsSync(join(partial, 'lib'))) symlinkSync('usr/lib', join(partial, 'lib'));
  writeFileSync(join(partial, '.complete'), '');
  rmSync(root, { recursive: true, force: true });
  renameSync(partial, root);
  return root;
}
