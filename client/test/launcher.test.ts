import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * bin/lbc, the launcher users run: the CLI's startup snapshot when the node on PATH built it,
 * dist/cli.js otherwise, and NODE_EXTRA_CA_CERTS handed over so a private CA keeps working.
 */
const CLIENT = resolve(import.meta.dirname, '..');
const LAUNCHER = resolve(CLIENT, 'bin', 'lbc');
const DIST = resolve(CLIENT, 'dist');
const { NODE_OPTIONS: _options, LBC_CLIENT_FROM_SOURCE: _source, NODE_EXTRA_CA_CERTS: _ca, ...userEnv } = process.env;

let dir: string;

/** `sh -x bin/lbc ARGS`: the command's output, and from the shell's trace the line the launcher exec'd. */
function launchTraced(launcher: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string; exec: string }> {
  const child = spawn('sh', ['-x', launcher, ...args], { env: { ...userEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
    const identity = readFileSync(join(DIST, 'lbc.blob.node'), 'utf8').trim();
    expect(identity).toMatch(/^\d+ \d+ \d+$/);
    expect(identity).toBe(execFileSync('stat', ['-L', '-c', '%s %Y %i', process.execPath], { encoding: 'utf8' }).trim());
    expect((await launchTraced(LAUNCHER, ['--help'])).out).toContain('Usage: lbc');
  });

  it('starts from the snapshot, whose commands run as they do from dist/cli.js', async () => {
    const snap = await launchTraced(LAUNCHER, ['inspect', 'maps', '--json']);
    expect(snap.exec).toContain(`--snapshot-blob ${join(DIST, 'lbc.blob')}`);
    expect(snap.code).toBe(0);
    // The addon is found from the snapshot too, and answers like the plain build.
    expect(Array.isArray(JSON.parse(snap.out))).toBe(true);
    const help = await launchTraced(LAUNCHER, ['run', '--help']);
    expect(help.out).toBe(execFileSync(process.execPath, [join(DIST, 'cli.js'), 'run', '--help'], { env: userEnv, encoding: 'utf8' }));
    // A command that needs the HTTP stack loads it at run time, beside the snapshot.
    const down = await launchTraced(LAUNCHER, ['kernels', '--server', 'http://127.0.0.1:9']);
    expect(down.code).not.toBe(0);
    expect(down.err).toContain('LBC_ERR_SERVER_UNREACHABLE');
  });

  it('falls back to dist/cli.js when the snapshot belongs to another node, or from source on request', async () => {
    const copy = join(dir, 'pkg');
    cpSync(join(CLIENT, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(DIST, join(copy, 'dist'), { recursive: true });
    writeFileSync(join(copy, 'dist', 'lbc.blob.node'), '1 1 1\n');
    const other = await launchTraced(join(copy, 'bin', 'lbc'), ['--help']);
    expect(other.exec).not.toContain('--snapshot-blob');
    expect(other.exec).toContain(join(copy, 'bin', 'lbc.mjs'));
    expect(other.out).toContain('Usage: lbc');

    const source = await launchTraced(LAUNCHER, ['--help'], { LBC_CLIENT_FROM_SOURCE: '1' });
    expect(source.exec).not.toContain('--snapshot-blob');
    expect(source.out).toContain('Usage: lbc');
  });

  describe('a service behind a private CA', () => {
    let server: Server;
    let url: string;
    let caFile: string;

    beforeAll(async () => {
      const key = join(dir, 'key.pem');
      caFile = join(dir, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
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
