/** lbc-admin ingest against a listening API: packages in, one line per kernel out, bad files exit 1 with their code. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBuilder } from '../../worker/test/ingest-fixtures.ts';
import { startIngestApp, type IngestApp } from './ingest-app.ts';

const LBC_ADMIN = fileURLToPath(new URL('../../server/bin/lbc-admin.mjs', import.meta.url));
const run = promisify(execFile);

let running: IngestApp;
let server: string;
let fx: FixtureBuilder;
const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-cli-'));

beforeAll(async () => {
  fx = new FixtureBuilder(dir);
  running = await startIngestApp();
  server = await running.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

const admin = (...args: string[]) =>
  run(process.execPath, [LBC_ADMIN, 'ingest', '--server', server, ...args], { env: { ...process.env, LBC_TOKEN: '' } }).then(
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
  });

  it('a bad file: its LBC_ERR code on stderr, exit status 1, the next file still ingested', async () => {
    const bad = fx.file('kernel-core-5.14.0-1.el9.x86_64.rpm', 'not an rpm at all\n');
    const good = fx.rawBtf('cli_after_bad');
    const res = await admin(bad, good, '--release', '6.9.1-lab', '--arch', 'x86_64', '--json');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/LBC_ERR_INGEST_FORMAT: .*\n {2}fix: /);
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
