import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { selfSignedCert } from '@lbc/test-support/self-signed';

/**
 * bin/lbc, the launcher users run: the CLI's startup snapshot, run by the node that built it while
 * that node is unchanged, dist/cli.js otherwise, and NODE_EXTRA_CA_CERTS handed over so a private
 * CA keeps working. Its checks are shell built-ins: the traces below show no other process started.
 */
const CLIENT = resolve(import.meta.dirname, '..');
const LAUNCHER = resolve(CLIENT, 'bin', 'lbc');
const DIST = resolve(CLIENT, 'dist');
const { NODE_OPTIONS: _options, LBC_CLIENT_FROM_SOURCE: _source, NODE_EXTRA_CA_CERTS: _ca, ...userEnv } = process.env;

let dir: string;
/** The V8 flags the built snapshot was made with, as bin/lbc passes them. */
const V8_FLAGS = (await import('../scripts/snapshot-blob.mjs')).SNAPSHOT_V8_FLAGS.join(' ');

/** `sh -x bin/lbc ARGS`: the command's output, and from the shell's trace the line the launcher exec'd. */
function launchTraced(launcher: string, args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ code: number | null; out: string; err: string; exec: string }> {
  const child = spawn('sh', ['-x', launcher, ...args], { cwd, env: { ...userEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((r) =>
    child.once('close', (code) => r({ code, out, err, exec: err.split('\n').find((l) => l.startsWith('+ exec ')) ?? '' })),
  );
}

describe('bin/lbc', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [resolve(CLIENT, 'scripts', 'build.mjs')], { env: userEnv });
    dir = mkdtempSync(join(tmpdir(), 'lbc-launcher-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the build leaves a startup snapshot of the CLI, tied to the node that made it', async () => {
    expect(readlinkSync(join(DIST, 'lbc.node'))).toBe(realpathSync(process.execPath));
    // To the nanosecond: the launcher's test built-ins compare the two times that finely.
    expect(statSync(join(DIST, 'lbc.node.mtime'), { bigint: true }).mtimeNs).toBe(statSync(process.execPath, { bigint: true }).mtimeNs);
    const help = await launchTraced(LAUNCHER, ['--help']);
    expect(help.out).toContain('Usage: lbc');
    // With the V8 flags the snapshot was made with, written beside it: V8 refuses it under others.
    expect(readFileSync(join(DIST, 'lbc.flags'), 'utf8')).toBe(`${V8_FLAGS}\n`);
    expect(help.exec).toContain(`${CLIENT}/bin/../dist/lbc.node --v8-pool-size=1 ${V8_FLAGS} --snapshot-blob`);
    const without = spawnSync(join(DIST, 'lbc.node'), ['--snapshot-blob', join(DIST, 'lbc.blob'), join(DIST, 'cli.js'), '--version'], { env: userEnv, encoding: 'utf8' });
    expect(without.status).not.toBe(0);
  });

  it("asks glibc for huge pages for the snapshot it reads, keeping the user's own tunables, and hands commands the CLI starts the user's own", async () => {
    const plain = await launchTraced(LAUNCHER, ['--version'], { GLIBC_TUNABLES: '' });
    expect(plain.code).toBe(0);
    expect(plain.err).toMatch(/^\+ GLIBC_TUNABLES=glibc\.malloc\.hugetlb=1 LBC_LAUNCHER_TUNABLES=1$/m);
    expect(plain.err).toContain('+ export GLIBC_TUNABLES LBC_LAUNCHER_TUNABLES');
    const own = await launchTraced(LAUNCHER, ['--version'], { GLIBC_TUNABLES: 'glibc.malloc.check=0' });
    expect(own.err).toMatch(/^\+ GLIBC_TUNABLES=glibc\.malloc\.check=0:glibc\.malloc\.hugetlb=1 LBC_LAUNCHER_TUNABLES=1$/m);
    // The user's own choice of it stands.
    const chosen = await launchTraced(LAUNCHER, ['--version'], { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' });
    expect(chosen.code).toBe(0);
    expect(chosen.err).not.toContain('export GLIBC_TUNABLES');
    // pahole, which `lbc trace` runs for a binary's types, sees what the user set, not the launcher's addition.
    const wrap = join(dir, 'wrap-bin');
    mkdirSync(wrap, { recursive: true });
    const seen = join(dir, 'pahole-env');
    const pahole = execFileSync('sh', ['-c', 'command -v pahole'], { encoding: 'utf8' }).trim();
    writeFileSync(join(wrap, 'pahole'), `#!/bin/sh\nprintf '%s|%s' "\${GLIBC_TUNABLES-unset}" "\${LBC_LAUNCHER_TUNABLES-unset}" >"${seen}"\nexec "${pahole}" "$@"\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'env-app.c'), 'struct point { int x; long y; };\n__attribute__((noinline)) long f(struct point *p) { return p->x + p->y; }\nint main(void) { struct point p = {1, 2}; return (int)f(&p); }\n');
    execFileSync('gcc', ['-g', '-O0', '-o', join(dir, 'env-app'), join(dir, 'env-app.c')]);
    const path = `${wrap}:${process.env.PATH}`;
    for (const [tunables, expected] of [['', 'unset|unset'], ['glibc.malloc.check=0', 'glibc.malloc.check=0|unset']] as const) {
      rmSync(seen, { force: true });
      const traced = await launchTraced(LAUNCHER, ['trace', '-S', `P ${join(dir, 'env-app')}:f y=%0->y`], { PATH: path, ...(tunables ? { GLIBC_TUNABLES: tunables } : {}) });
      expect(traced.exec).toContain('--snapshot-blob');
      expect(traced.out).toMatch(/ y=\+0x8\(%di\):u64/);
      expect(readFileSync(seen, 'utf8')).toBe(expected);
    }
  });

  it('starts from the snapshot, whose commands run as they do from dist/cli.js', async () => {
    const snap = await launchTraced(LAUNCHER, ['inspect', 'maps', '--json']);
    expect(snap.exec).toContain(`--snapshot-blob ${CLIENT}/bin/../dist/lbc.blob`);
    expect(snap.code).toBe(0);
    // The addon is found from the snapshot too, and answers like the plain build.
    expect(Array.isArray(JSON.parse(snap.out))).toBe(true);
    const help = await launchTraced(LAUNCHER, ['run', '--help']);
    expect(help.out).toBe(execFileSync(process.execPath, [join(DIST, 'cli.js'), 'run', '--help'], { env: userEnv, encoding: 'utf8' }));
    // child_process is a stand-in in the snapshot, required on first use: `lbc trace` runs pahole
    // through it to read a binary's debug info (p->y is at offset 8).
    writeFileSync(join(dir, 'app.c'), 'struct point { int x; long y; };\n__attribute__((noinline)) long f(struct point *p) { return p->x + p->y; }\nint main(void) { struct point p = {1, 2}; return (int)f(&p); }\n');
    execFileSync('gcc', ['-g', '-O0', '-o', join(dir, 'point-app'), join(dir, 'app.c')]);
    const traced = await launchTraced(LAUNCHER, ['trace', '-S', `P ${join(dir, 'point-app')}:f y=%0->y`]);
    expect(traced.exec).toContain('--snapshot-blob');
    expect(traced.out).toMatch(/ y=\+0x8\(%di\):u64/);
    // A command that needs the HTTP stack loads it at run time, beside the snapshot.
    const down = await launchTraced(LAUNCHER, ['kernels', '--server', 'http://127.0.0.1:9']);
    expect(down.code).not.toBe(0);
    expect(down.err).toContain('LBC_ERR_SERVER_UNREACHABLE');
  });

  it('follows the symlinks npm makes to it, relative paths and a symlink elsewhere', async () => {
    // node_modules/.bin/lbc -> ../lbc-client/bin/lbc, as npm links a dependency's bin.
    const modules = join(dir, 'app', 'node_modules');
    mkdirSync(join(modules, '.bin'), { recursive: true });
    symlinkSync(CLIENT, join(modules, 'lbc-client'));
    symlinkSync(join('..', 'lbc-client', 'bin', 'lbc'), join(modules, '.bin', 'lbc'));
    const viaBin = await launchTraced(join(modules, '.bin', 'lbc'), ['--version']);
    expect(viaBin.exec).toContain(`${modules}/.bin/../lbc-client/bin/../dist/lbc.node --v8-pool-size=1 ${V8_FLAGS} --snapshot-blob`);
    expect(viaBin.err).not.toContain('readlink');
    expect(viaBin.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);

    const elsewhere = join(dir, 'my-lbc');
    symlinkSync(LAUNCHER, elsewhere);
    const linked = await launchTraced(elsewhere, ['--version']);
    expect(linked.err).toContain('readlink -f');
    expect(linked.exec).toContain('--snapshot-blob');
    expect(linked.out).toBe(viaBin.out);

    // Started as `bin/lbc` from the package: a path with one directory in it.
    const relative = await launchTraced(join('bin', 'lbc'), ['--version'], {}, CLIENT);
    expect(relative.exec).toContain(`+ exec bin/../dist/lbc.node --v8-pool-size=1 ${V8_FLAGS} --snapshot-blob`);
  });

  it('falls back to dist/cli.js when the node that built the snapshot changed or is gone, or from source on request', async () => {
    const copy = join(dir, 'pkg');
    cpSync(join(CLIENT, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(DIST, join(copy, 'dist'), { recursive: true });
    const stamp = join(copy, 'dist', 'lbc.node.mtime');
    execFileSync('touch', ['-r', join(DIST, 'lbc.node.mtime'), stamp]);
    const same = await launchTraced(join(copy, 'bin', 'lbc'), ['--help']);
    expect(same.exec).toContain('--snapshot-blob');

    // A node upgraded in place has another modification time than the one recorded.
    utimesSync(stamp, 1, 1);
    const other = await launchTraced(join(copy, 'bin', 'lbc'), ['--help']);
    expect(other.exec).not.toContain('--snapshot-blob');
    expect(other.exec).toContain(`exec node --v8-pool-size=1 ${join(copy, 'bin', 'lbc.mjs')}`);
    expect(other.out).toContain('Usage: lbc');
    expect(other.out).toBe(same.out);

    // The node that built it was removed (its time and the recorded one can then not be compared).
    execFileSync('touch', ['-r', join(DIST, 'lbc.node.mtime'), stamp]);
    rmSync(join(copy, 'dist', 'lbc.node'));
    symlinkSync(join(dir, 'no-such-node'), join(copy, 'dist', 'lbc.node'));
    const gone = await launchTraced(join(copy, 'bin', 'lbc'), ['--help']);
    expect(gone.exec).not.toContain('--snapshot-blob');
    expect(gone.out).toBe(same.out);

    const source = await launchTraced(LAUNCHER, ['--help'], { LBC_CLIENT_FROM_SOURCE: '1' });
    expect(source.exec).not.toContain('--snapshot-blob');
    expect(source.out).toContain('Usage: lbc');
  });

  describe("undici's HTTP parser, warmed up while the first answer is awaited (scripts/undici-core.mjs)", () => {
    const kernel = (i: number) => ({ btfSha256: i.toString(16).padStart(64, '0'), release: `6.1.0-${i}-warm`, arch: 'x86_64', distro: 'debian', source: 'upload', btfSize: i, createdAt: new Date(0).toISOString() });
    const cases = [
      { delayMs: 0, chunked: false, count: 1 },
      { delayMs: 200, chunked: false, count: 1 },
      { delayMs: 0, chunked: true, count: 300 },
      { delayMs: 200, chunked: true, count: 3000 },
    ];

    // A delay answers after the warm-up has run; chunked comes in many small writes; many kernels make a large body.
    it.each(cases)('leaves every answer whole (%o)', async ({ delayMs, chunked, count }) => {
      const body = JSON.stringify({ kernels: Array.from({ length: count }, (_, i) => kernel(i)) });
      const server: HttpServer = createHttpServer((_req, res) => {
        setTimeout(() => {
          res.setHeader('content-type', 'application/json');
          if (!chunked) return res.end(body);
          for (let at = 0; at < body.length; at += 97) res.write(body.slice(at, at + 97));
          res.end();
        }, delayMs);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const got = await launchTraced(LAUNCHER, ['kernels', '--json', '--server', `http://127.0.0.1:${(server.address() as AddressInfo).port}`]);
        expect(got.exec).toContain('--snapshot-blob');
        expect(got.code).toBe(0);
        expect(JSON.parse(got.out)).toEqual(Array.from({ length: count }, (_, i) => kernel(i)));
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  });

  describe('a service behind a private CA', () => {
    let server: Server;
    let url: string;
    let caFile: string;

    beforeAll(async () => {
      let key: string;
      ({ cert: caFile, key } = selfSignedCert(dir, 'private-ca'));
      server = createServer({ key: readFileSync(key), cert: readFileSync(caFile) }, (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(req.url?.startsWith('/v1/kernels') ? { kernels: [{ btfSha256: 'a'.repeat(64), release: '6.1.0-private', arch: 'x86_64', distro: 'debian', source: 'upload', btfSize: 1, createdAt: new Date().toISOString() }] } : {}));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('is reached with NODE_EXTRA_CA_CERTS, which the launcher hands over as LBC_EXTRA_CA_CERTS', async () => {
      const trusted = await launchTraced(LAUNCHER, ['kernels', '--server', url], { NODE_EXTRA_CA_CERTS: caFile });
      expect(trusted.err).toContain('+ unset NODE_EXTRA_CA_CERTS');
      expect(trusted.code).toBe(0);
      expect(trusted.out).toContain('6.1.0-private');

      const untrusted = await launchTraced(LAUNCHER, ['kernels', '--server', url]);
      expect(untrusted.code).not.toBe(0);
      expect(untrusted.out).not.toContain('6.1.0-private');
      expect(untrusted.err).toMatch(/LBC_ERR_SERVER_TLS: .*DEPTH_ZERO_SELF_SIGNED_CERT/);
      expect(untrusted.err).toContain('NODE_EXTRA_CA_CERTS');

      const unreadable = await launchTraced(LAUNCHER, ['kernels', '--server', url], { NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') });
      expect(unreadable.code).not.toBe(0);
      expect(unreadable.err).toContain('LBC_ERR_CA_CERTS');
    });
  });
});
