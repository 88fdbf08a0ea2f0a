// The API over HTTPS (LBC_TLS_CERT, LBC_TLS_KEY): a farm's tokens and sources cross the network
// between hosts. The CLI compiles through it trusting the farm's CA (NODE_EXTRA_CA_CERTS), refuses
// it without, plain HTTP gets no API, and a half or unreadable configuration stops the server with
// the variable named.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startPrivateRedis, type PrivateRedis } from '@lbc/test-support/redis';
import { startService, type RunningService } from '@lbc/test-support/service';
import { runCli } from '@lbc/test-support/run-cli';
import { selfSignedCert } from '@lbc/test-support/self-signed';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');

describe('the API over HTTPS', () => {
  let dir: string;
  let redis: PrivateRedis;
  let service: RunningService;
  let farm: { cert: string; key: string };
  let stranger: { cert: string; key: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lbc-tls-'));
    farm = selfSignedCert(dir, 'farm');
    stranger = selfSignedCert(dir, 'stranger');
    copyFileSync(join(FIXTURES, 'execcount.bpf.c'), join(dir, 'execcount.bpf.c'));
    redis = await startPrivateRedis();
    service = await startService({ redisUrl: redis.url, env: { LBC_TLS_CERT: farm.cert, LBC_TLS_KEY: farm.key }, tlsCa: readFileSync(farm.cert, 'utf8') });
  });
  afterAll(async () => {
    await service?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('compiles for the CLI that trusts the farm CA: request, job, object, all over HTTPS', async () => {
    expect(service.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await runCli(['compile', 'execcount.bpf.c', '-o', join(dir, 'execcount.bpf.o'), '--server', service.url], {
      cwd: dir,
      env: { NODE_EXTRA_CA_CERTS: farm.cert },
    });
    expect(r.stderr).toContain('wrote');
    expect(r.code).toBe(0);
    const obj = readFileSync(join(dir, 'execcount.bpf.o'));
    expect(obj.readUInt16LE(18)).toBe(247); // e_machine EM_BPF
  });

  it('a CLI that trusts another CA refuses the service: LBC_ERR_SERVER_TLS, nothing sent', async () => {
    const r = await runCli(['kernels', '--server', service.url], { env: { NODE_EXTRA_CA_CERTS: stranger.cert } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/LBC_ERR_SERVER_TLS: .*self[- ]signed/i);
    expect(r.stderr).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('plain HTTP on the HTTPS port gets no API answer', async () => {
    const plain = service.url.replace(/^https:/, 'http:');
    await expect(fetch(`${plain}/healthz`)).rejects.toThrow();
  });

  it('LBC_TLS_CERT without LBC_TLS_KEY, or a file that cannot be read: the server does not start and names the variable', async () => {
    const half = startService({ redisUrl: redis.url, env: { LBC_TLS_CERT: farm.cert }, tlsCa: readFileSync(farm.cert, 'utf8') });
    await expect(half).rejects.toThrow(/HTTPS needs both LBC_TLS_CERT and LBC_TLS_KEY \(PEM files\); only LBC_TLS_CERT is set/);
    const missing = join(dir, 'no-such-key.pem');
    const unreadable = startService({ redisUrl: redis.url, env: { LBC_TLS_CERT: farm.cert, LBC_TLS_KEY: missing }, tlsCa: readFileSync(farm.cert, 'utf8') });
    await expect(unreadable).rejects.toThrow(`LBC_TLS_KEY: cannot read ${missing} (ENOENT): give a readable PEM file`);
  });
});
