/** lbc-admin ingest against a listening API: packages in, one line per kernel out, bad files exit 1 with their code. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';
import { startIngestApp, type IngestApp } from '@lbc/test-support/ingest-app';

const LBC_ADMIN = fileURLToPath(new URL('../../farm/bin/lbc-admin.mjs', import.meta.url));
const run = promisify(execFile);

let running: IngestApp;
let server: string;
let fx: FixtureBuilder;
const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-cli-'));

beforeAll(async () => {
  fx = new FixtureBuilder(dir);
  // The default: loopback callers are not admins; lbc-admin mints a token from the data directory.
  running = await startIngestApp({}, { config: { loopbackAdmin: false } });
  server = await running.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

const admin = (...args: string[]) =>
  run(process.execPath, [LBC_ADMIN, 'ingest', '--server', server, ...args], { env: { ...process.env, LBC_TOKEN: '', LBC_DATA_DIR: running.h.dataDir } }).then(
    (r) => ({ code: 0, ...r }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );

describe('lbc-admin ingest', () => {
  it('ingests several files, one line each; the same file again says so', async () => {
    const deb = fx.deb({
      name: 'linux-image-6.1.0-70-cloud-amd64', version: '6.1.70-1', arch: 'amd64',
      files: { '/boot/vmlinuz-6.1.0-70-cloud-amd64': fx.vmlinuz(fx.btfElf('cli_deb'), 'zstd') }, compression: 'xz',
    });
    const raw = fx.rawBtf('cli_raw');
    const first = await admin(deb);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/: registered 6\.1\.0-70-cloud-amd64 x86_64 debian btf [0-9a-f]{12} \(section, bootable\)/);
    const more = await admin(deb, raw, '--release', '6.9.0-lab', '--arch', 'aarch64');
    expect(more.code, more.stderr).toBe(0);
    const lines = more.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/already ingested 6\.1\.0-70-cloud-amd64/);
    expect(lines[1]).toMatch(/registered 6\.9\.0-lab aarch64 btf [0-9a-f]{12} \(raw\)$/);
    expect(running.h.registry.list().map((k) => k.release)).toEqual(expect.arrayContaining(['6.1.0-70-cloud-amd64', '6.9.0-lab']));
    // Each run minted an admin token in the data directory and revoked it when it ended.
    const runTokens = running.tokens.list().filter((t) => t.tenant === 'lbc-admin');
    expect(runTokens.length).toBe(2);
    expect(runTokens.every((t) => t.admin && t.revokedAt)).toBe(true);
  });

  it('from loopback without a token and without the data directory, ingestion is refused: loopback callers do not administer', async () => {
    const res = await run(process.execPath, [LBC_ADMIN, 'ingest', '--server', server, '--data-dir', join(dir, 'no-farm-here'), fx.rawBtf('cli_anonymous'), '--release', '6.9.2-lab', '--arch', 'x86_64'], { env: { ...process.env, LBC_TOKEN: '' } }).catch((e) => e);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/LBC_ERR_AUTH_REQUIRED: .*needs an admin token/);
  });

  it('a bad file: its LBC_ERR code on stderr, exit status 1, the next file still ingested', async () => {
    const bad = fx.file('kernel-core-5.14.0-1.el9.x86_64.rpm', 'not an rpm at all\n');
    const good = fx.rawBtf('cli_after_bad');
    const res = await admin(bad, good, '--release', '6.9.1-lab', '--arch', 'x86_64', '--json');
    expect(res.code).toBe(1);
    expect(res.stderr, res.stderr).toMatch(/LBC_ERR_INGEST_FORMAT: .*\n {2}fix: /);
    const [badLine, goodLine] = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(badLine.error.code).toBe('LBC_ERR_INGEST_FORMAT');
    expect(goodLine).toMatchObject({ state: 'completed', kernel: { release: '6.9.1-lab', arch: 'x86_64' } });
  });

  it('an unreachable service is LBC_ERR_SERVER_UNREACHABLE', async () => {
    const res = await run(process.execPath, [LBC_ADMIN, 'ingest', '--server', 'http://127.0.0.1:9', fx.rawBtf('cli_unreachable')]).catch((e) => e);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/LBC_ERR_SERVER_UNREACHABLE/);
  });
});
