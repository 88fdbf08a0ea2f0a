import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { signalGroup, startBareTarget, type BareTarget } from '@lbc/test-support/bare-target';
import { childLines } from '@lbc/test-support/child-lines';

/**
 * lbc-client as users get it: the tarball `npm pack` makes, installed with npm on a bare Debian
 * root (node and libelf1, no compiler, python, make, headers or libbpf), against a real service.
 * The figures (tarball size, install time, installed size, first event) are printed for the README.
 */
const CLIENT = resolve(import.meta.dirname, '..', 'client');
const README = readFileSync(join(CLIENT, 'README.md'), 'utf8');
// npm pack runs as a user's shell would: none of the test suite's switches to the sources.
const { NODE_OPTIONS: _options, LBC_CLIENT_FROM_SOURCE: _source, ...userEnv } = process.env;

const TARBALL_LIMIT = 1.5 * 1024 * 1024;
const INSTALLED_LIMIT = 15 * 1024 * 1024;
/** What a prebuilt addon may link dynamically: glibc, libelf, zlib, and the C++ runtime node has anyway. */
const ALLOWED_LIBRARIES = /^(libc\.so\.6|libm\.so\.6|ld-linux-(x86-64|aarch64)\.so\.[12]|libelf\.so\.1|libz\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$/;

/** The README's example: its JavaScript block, and the BPF program inside it. */
const example = /```js\n([\s\S]*?)```/.exec(README)![1]!;
const bpfSource = /const bpf = `([\s\S]*?)`;/.exec(example)![1]!;

function figure(name: string, value: string): void {
  process.stdout.write(`client package: ${name} ${value}\n`);
}

/** Runs /bin/true on the host until `done` (exec events are system-wide: the target's programs see them). */
async function execUntil(done: () => boolean, timeoutMs: number, child: ChildProcessWithoutNullStreams, err: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before its first event:\n${err()}`);
    if (Date.now() > deadline) throw new Error(`no event within ${timeoutMs} ms:\n${err()}`);
    execFileSync('/bin/true');
    await sleep(50);
  }
}

/** Long steps run asynchronously: a worker blocked for minutes misses vitest's own calls. */
const run = promisify(execFile);

function neededLibraries(file: string): string[] {
  return [...execFileSync('readelf', ['-d', file], { encoding: 'utf8' }).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

/** The highest version of each symbol-version family (GLIBC_, GLIBCXX_, CXXABI_) the file needs. */
function highestVersions(file: string): Record<string, string> {
  const highest: Record<string, number[]> = {};
  for (const [, family, version] of readFileSync(file, 'latin1').matchAll(/\b(GLIBC|GLIBCXX|CXXABI)_(\d+(?:\.\d+)+)\b/g)) {
    const parts = version!.split('.').map(Number);
    const known = highest[family!];
    if (!known || compare(parts, known) > 0) highest[family!] = parts;
  }
  return Object.fromEntries(Object.entries(highest).map(([family, parts]) => [family, parts.join('.')]));
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

function duBytes(path: string): number {
  return Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
}

describe('lbc-client packed, installed with npm on a bare target, against a real service', () => {
  const env = useServiceFixture('lbc-package-');
  let tarball: string;
  let target: BareTarget;

  beforeAll(async () => {
    // prepack builds dist/ for the package and the prebuilt addons (cached); postpack restores the
    // repository's build.
    const packed = await run('npm', ['pack', '--silent', '--pack-destination', env.dir], { cwd: CLIENT, env: userEnv, encoding: 'utf8' });
    const name = packed.stdout.trim().split('\n').pop()!;
    tarball = join(env.dir, name);
    target = await startBareTarget();
    copyFileSync(tarball, join(target.root, 'tmp', name));
  }, 600_000);
  afterAll(() => target?.stop());

  it('the tarball: built JavaScript, types and prebuilt addons; no tests, TypeScript sources, source maps, snapshot or install scripts', () => {
    const size = statSync(tarball).size;
    figure('tarball', `${(size / 1024 / 1024).toFixed(2)} MB`);
    expect(size).toBeLessThanOrEqual(TARBALL_LIMIT);
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    for (const f of ['package.json', 'README.md', 'bin/lbc', 'bin/lbc.mjs', 'dist/index.js', 'dist/cli.js', 'dist/cli-snapshot.cjs', 'dist/snapshot.key', 'dist/types/client/src/index.d.ts', 'prebuilds/linux-x64/lbc_native.napi.glibc.node', 'prebuilds/linux-arm64/lbc_native.napi.glibc.node', 'native/binding.gyp']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /(^|\/)(test|src\/.*\.ts$)|\.map$|\.tsbuildinfo$|lbc\.blob|lbc\.node$|\.stamp$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => /^(pre|post)?install$/.test(s))).toEqual([]);
    expect(Object.keys(manifest.dependencies ?? {}).filter((d) => /^(node-gyp|node-addon-api|esbuild|tsx|typescript|@lbc\/)/.test(d))).toEqual([]);
  });

  it('the prebuilt addons link libbpf in: they need only glibc, libelf, zlib and the C++ runtime node has, no newer than node 20 needs', () => {
    for (const arch of ['x64', 'arm64']) {
      const addon = join(CLIENT, 'prebuilds', `linux-${arch}`, 'lbc_native.napi.glibc.node');
      const needed = neededLibraries(addon);
      expect(needed.filter((l) => !ALLOWED_LIBRARIES.test(l))).toEqual([]);
      expect(needed).toEqual(expect.arrayContaining(['libelf.so.1', 'libz.so.1', 'libc.so.6']));
      // libbpf's own symbols are inside and hidden: none is exported for another libbpf to bind to.
      const exported = execFileSync('nm', ['-D', '--defined-only', addon], { encoding: 'utf8' });
      expect(exported).not.toMatch(/ (bpf_object__open|ring_buffer__new|libbpf_set_print)\b/);
      const versions = highestVersions(addon);
      figure(`linux-${arch} addon needs`, JSON.stringify(versions));
      // node 20's official binaries need glibc 2.28 and GLIBCXX_3.4.21 (gcc 5) at most.
      expect(compare(versions.GLIBC!.split('.').map(Number), [2, 28])).toBeLessThanOrEqual(0);
      expect(compare((versions.GLIBCXX ?? '3.4').split('.').map(Number), [3, 4, 21])).toBeLessThanOrEqual(0);
    }
    expect(execFileSync('file', ['-b', join(CLIENT, 'prebuilds', 'linux-arm64', 'lbc_native.napi.glibc.node')], { encoding: 'utf8' })).toContain('ARM aarch64');
  });

  it('npm install of the tarball succeeds with no compiler, python, make, headers or libbpf on the target', async () => {
    const bare = await target.sh('for t in cc gcc g++ clang make python3 node-gyp; do command -v $t; done; ls /usr/include/bpf /usr/include/linux 2>/dev/null; ls /usr/lib/*/libbpf* /usr/lib/libbpf* 2>/dev/null; true');
    expect(bare.stdout).toBe('');
    const name = tarball.split('/').pop()!;
    const started = Date.now();
    const installed = await target.sh(`mkdir -p /app && cd /app && npm init -y >/dev/null && npm install --no-audit --no-fund /tmp/${name}`);
    const took = Date.now() - started;
    expect(installed.code, installed.stderr).toBe(0);
    figure('install', `${(took / 1000).toFixed(1)} s (npm install of the tarball, dependencies from the registry)`);
    const size = duBytes(join(target.root, 'app', 'node_modules'));
    figure('installed size', `${(size / 1024 / 1024).toFixed(1)} MB with dependencies (${readdirSync(join(target.root, 'app', 'node_modules')).filter((d) => !d.startsWith('.')).join(', ')})`);
    expect(size).toBeLessThanOrEqual(INSTALLED_LIMIT);
    // The addon as installed, resolved by the target's own loader: nothing missing, no libbpf.so.
    const ldd = await target.sh('ldd /app/node_modules/lbc-client/prebuilds/linux-x64/lbc_native.napi.glibc.node');
    expect(ldd.code).toBe(0);
    expect(ldd.stdout).not.toContain('not found');
    expect(ldd.stdout).not.toContain('libbpf');
    expect(ldd.stdout).toContain('libelf.so.1 => /');
  });

  it("the README's example delivers a decoded exec event, at its first start and with the object cached", async () => {
    writeFileSync(join(target.root, 'app', 'hello.mjs'), example);
    for (const start of ['first start: kernel BTF upload and compile included', 'object cached']) {
      const started = Date.now();
      const child = target.spawn('cd /app && exec node hello.mjs', { LBC_SERVER: env.service.url });
      child.stdin.end();
      const io = childLines(child);
      try {
        await execUntil(() => io.out.some((l) => /^\d+ true$/.test(l)), 120_000, child, io.err);
        figure(`first event (README example, ${start})`, `${Date.now() - started} ms`);
      } finally {
        await signalGroup(child, 'SIGKILL');
      }
    }
  }, 240_000);

  it('the installed type declarations type-check a TypeScript user of the README example, and catch a misuse', async () => {
    const app = join(target.root, 'app');
    writeFileSync(join(app, 'use.ts'), `import { Lbc, LbcError, isLbcError } from 'lbc-client';\nconst lbc: Lbc = new Lbc('hello', 'int x;', { server: 'http://127.0.0.1:8080' });\nawait lbc.ready;\nconst e: LbcError | undefined = undefined;\nexport const ok: boolean = isLbcError(e) && lbc.maps !== undefined;\n`);
    writeFileSync(join(app, 'misuse.ts'), `import { Lbc } from 'lbc-client';\nexport const n: number = new Lbc('hello');\n`);
    // One tsc run over both: the user's file is clean, the misuse is the only error.
    const config = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'], typeRoots: [resolve(CLIENT, '..', 'node_modules', '@types')] }, files: ['use.ts', 'misuse.ts'] };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(config));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')), type: 'module' }));
    let out = '';
    try {
      await run(process.execPath, [resolve(CLIENT, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app, encoding: 'utf8' });
    } catch (error) {
      out = String((error as { stdout?: string }).stdout);
    }
    expect(out.trim().split('\n')).toEqual([expect.stringMatching(/^misuse\.ts\(2,14\): error TS2322: Type 'Lbc' is not assignable to type 'number'/)]);
  }, 180_000);

  it('npx lbc run prints events and npx lbc --help works; the first start makes the startup snapshot in the user cache, which later starts use', async () => {
    writeFileSync(join(target.root, 'app', 'hello.bpf.c'), bpfSource);
    // Another version's snapshot, not remade for a month: the new one's maker removes it.
    await target.sh("mkdir -p /root/.cache/lbc-client/snapshot-0ld && touch -d '40 days ago' /root/.cache/lbc-client/snapshot-0ld");
    const help = await target.sh('cd /app && npx lbc --help');
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: lbc');

    const run = async (label: string, lbc = 'npx lbc') => {
      const started = Date.now();
      const child = target.spawn(`cd /app && exec ${lbc} run hello.bpf.c --json --server ${env.service.url}`);
      child.stdin.end();
      const io = childLines(child);
      try {
        await execUntil(() => io.out.some((l) => l.startsWith('{') && JSON.parse(l).event?.comm === 'true'), 60_000, child, io.err);
        figure(`first event (${lbc} run, ${label})`, `${Date.now() - started} ms`);
      } finally {
        await signalGroup(child, 'SIGINT');
      }
    };
    await run('object cached');

    // The first starts made the snapshot in the background, for this node.
    const key = readFileSync(join(target.root, 'app/node_modules/lbc-client/dist/snapshot.key'), 'utf8').trim();
    const snapshot = `/root/.cache/lbc-client/snapshot-${key}`;
    // Done when the blob is there and its maker has let go of its lock (pruning comes last).
    for (let i = 0; i < 600 && (await target.sh(`test -f ${snapshot}/lbc.blob && ! test -e ${snapshot}/.building`)).code !== 0; i++) await sleep(100);
    expect((await target.sh(`test -f ${snapshot}/lbc.blob && test -L ${snapshot}/lbc.node`)).code).toBe(0);
    expect((await target.sh('ls /root/.cache/lbc-client')).stdout.trim().split('\n')).toEqual([`snapshot-${key}`]);
    const traced = await target.sh('cd /app && sh -x node_modules/.bin/lbc --help');
    expect(traced.stdout).toContain('Usage: lbc');
    // With the V8 flags the blob was made with, written beside it.
    const flags = (await target.sh(`cat ${snapshot}/lbc.flags`)).stdout.trim();
    expect(flags).toMatch(/^--no-rehash-snapshot( --[a-z-]+)*$/);
    expect(traced.stderr).toContain(`exec ${snapshot}/lbc.node --v8-pool-size=1 ${flags} --snapshot-blob ${snapshot}/lbc.blob`);
    await run('from the snapshot');
    // npx's own start is most of the above: the launcher npm linked, as a shell or PATH finds it.
    await run('from the snapshot', 'node_modules/.bin/lbc');
  }, 180_000);

  it('elsewhere, the build from source that the README and LBC_ERR_NATIVE name works where a toolchain and libbpf-dev are (this host)', async () => {
    const app = join(env.dir, 'from-source');
    mkdirSync(app);
    const sh = async (command: string) => (await run('sh', ['-c', command], { cwd: app, env: userEnv, encoding: 'utf8' })).stdout;
    await sh(`npm init -y >/dev/null && npm install --no-audit --no-fund ${tarball}`);
    const steps = /`(npm install node-addon-api && npx node-gyp rebuild --directory node_modules\/lbc-client\/native)`/.exec(README.replace(/\s*\n\s*/g, ' '))?.[1];
    expect(steps, 'the build-from-source command in client/README.md').toBeDefined();
    // node-gyp from the repository rather than npx's download: the step under test is the package's.
    await sh(steps!.replace('npx node-gyp', `node ${resolve(CLIENT, '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')}`) + ' >/dev/null 2>&1');
    const built = join(app, 'node_modules/lbc-client/native/build/Release/lbc_native.node');
    expect(neededLibraries(built)).toContain('libbpf.so.1');
    // It takes precedence over the prebuilt addon, and the CLI runs with it.
    const out = await sh('LD_DEBUG=files LD_DEBUG_OUTPUT=loads node_modules/.bin/lbc inspect maps --json');
    expect(Array.isArray(JSON.parse(out))).toBe(true);
    const loads = readdirSync(app).filter((f) => f.startsWith('loads.')).map((f) => readFileSync(join(app, f), 'utf8')).join('');
    expect(loads).toContain(`file=${built} [0];  dynamically loaded`);
    expect(loads).not.toContain('lbc_native.napi.glibc.node');
  }, 300_000);

  it('LBC_ERR_NATIVE names the package to install when libelf is missing', async () => {
    const hidden = await target.sh('mv /usr/lib/x86_64-linux-gnu/libelf.so.1 /usr/lib/x86_64-linux-gnu/libelf.so.1.hidden');
    expect(hidden.code, hidden.stderr).toBe(0);
    try {
      const r = await target.sh('cd /app && npx lbc inspect maps');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('LBC_ERR_NATIVE');
      expect(r.stderr).toContain('libelf.so.1: cannot open shared object file');
      expect(r.stderr).toContain('install libelf1');
    } finally {
      await target.sh('mv /usr/lib/x86_64-linux-gnu/libelf.so.1.hidden /usr/lib/x86_64-linux-gnu/libelf.so.1');
    }
  });
});
