// A farm whose Redis other hosts reach over TLS (README: `rediss://`): the service's queue, worker,
// shared object references and tokens all go through a redis-server that has no plain port at all, trusting
// its certificate through NODE_EXTRA_CA_CERTS.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort, redisAnswers, redisKey } from '@lbc/core';
import { startService, type RunningService } from '@lbc/test-support/service';
import { runCli } from '@lbc/test-support/run-cli';
import { selfSignedCert } from '@lbc/test-support/self-signed';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');

describe('a farm on a TLS-only Redis (rediss://)', () => {
  let dir: string;
  let cert: string;
  let redis: ChildProcess;
  let port: number;
  let service: RunningService;

  /** PING over TLS, trusting `cert`; false while the server is not up yet. */
  const pingTls = () => redisAnswers(`rediss://127.0.0.1:${port}`, 1_000, { ca: readFileSync(cert) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lbc-redis-tls-'));
    let key: string;
    ({ cert, key } = selfSignedCert(dir, 'redis'));
    copyFileSync(join(FIXTURES, 'execcount.bpf.c'), join(dir, 'execcount.bpf.c'));
    port = await freePort();
    // --port 0: no plain TCP port, so nothing can reach it without TLS.
    redis = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', cert, '--tls-key-file', key, '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await pingTls())) {
      if (redis.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server with TLS did not come up (exit ${redis.exitCode})`);
      await sleep(50);
    }
    service = await startService({ redisUrl: `rediss://127.0.0.1:${port}`, env: { NODE_EXTRA_CA_CERTS: cert } });
  });
  afterAll(async () => {
    await service?.stop();
    if (redis && redis.exitCode === null) {
      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('compiles through the queue on it, and the job and the shared object are stored there', async () => {
    const r = await runCli(['compile', 'execcount.bpf.c', '-o', join(dir, 'execcount.bpf.o'), '--server', service.url], { cwd: dir });
    expect(r.stderr).toContain('wrote');
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'execcount.bpf.o')).readUInt16LE(18)).toBe(247); // EM_BPF
    const client = new Redis(`rediss://127.0.0.1:${port}`, { tls: { ca: readFileSync(cert) } });
    try {
      const keys = await client.keys('*');
      expect(keys.some((k) => k.startsWith('bull:'))).toBe(true);
      // Other API nodes find the object from the reference kept here (which compile made it, which node holds it).
      expect(keys.some((k) => k.startsWith(redisKey.compiledRef('')))).toBe(true);
      expect(keys.some((k) => k.startsWith(redisKey.blobLocation('')))).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});
