/**
 * The client rides out a recovering service: a compile accepted before Redis went away completes
 * once Redis is back (its job kept in the AOF), a service answering 503 is asked again until the
 * client's deadline, and a service nobody answers for fails at once.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLbcError } from '@lbc/contract';
import { detectTarget } from 'lbc-client';
import { ServiceClient } from '../client/src/transport/index.ts';
import { wireTarget } from '../client/src/target/detect-target.ts';
import { startRestartableRedis } from '@lbc/test-support/restartable-redis';
import { useServiceFixture } from '@lbc/test-support/service-fixture';

const SOURCE = readFileSync(join(import.meta.dirname, 'fixtures', 'execcount.bpf.c'), 'utf8');

describe('ServiceClient through a Redis restart', () => {
  const env = useServiceFixture('lbc-retry-', undefined, () => startRestartableRedis({ appendOnly: true }));
  let client: ServiceClient;
  beforeAll(() => {
    client = new ServiceClient({ server: env.service.url });
  });
  afterAll(() => client?.close());

  it('a job being polled when Redis dies completes after Redis is back', async () => {
    let outage: Promise<void> | undefined;
    let polledDuringOutage = 0;
    let backAt = Infinity;
    const started = Date.now();
    const result = await client.compile(
      { name: 'execcount', source: SOURCE, cflags: [`-DRETRY_TAG=${started}`], target: wireTarget(detectTarget()), waitMs: 0 },
      {
        timeoutMs: 60_000,
        onProgress: () => {
          // First answer of the poll: the job is queued. Now take Redis away for 1.5 s.
          outage ??= (async () => {
            await env.redis.kill();
            const down = Date.now();
            while (Date.now() - down < 1500) {
              polledDuringOutage += (await fetch(`${env.service.url}/readyz`).catch(() => undefined))?.status === 503 ? 1 : 0;
              await new Promise((r) => setTimeout(r, 300));
            }
            await env.redis.start();
            backAt = Date.now();
          })();
        },
      },
    );
    const answeredAt = Date.now();
    await outage;
    expect(polledDuringOutage).toBeGreaterThan(0); // the service really was down meanwhile
    expect(answeredAt).toBeGreaterThanOrEqual(backAt); // and the client kept polling through it
    expect(result.cached).toBe(false);
    expect(result.artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await client.fetchArtifact(result.artifact.sha256)).length).toBe(result.artifact.size);
  }, 90_000);

  it('a compile refused with 503 is asked again until the deadline, then the 503 error is thrown', async () => {
    await env.redis.kill();
    try {
      const t0 = Date.now();
      const err = await client
        .compile({ name: 'execcount', source: SOURCE, cflags: ['-DRETRY_DOWN=1'], target: wireTarget(detectTarget()) }, { timeoutMs: 2_000 })
        .catch((e: unknown) => e);
      expect(isLbcError(err, 'LBC_ERR_QUEUE_UNAVAILABLE')).toBe(true);
      expect(Date.now() - t0).toBeGreaterThan(1_000); // waited and asked again, not one shot
    } finally {
      await env.redis.start();
    }
  });

  it('a service nobody answers for fails at once with LBC_ERR_SERVER_UNREACHABLE', async () => {
    const dead = new ServiceClient({ server: 'http://127.0.0.1:9' });
    const t0 = Date.now();
    const err = await dead.compile({ name: 'execcount', source: SOURCE, target: wireTarget(detectTarget()) }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    await dead.close();
    expect(isLbcError(err, 'LBC_ERR_SERVER_UNREACHABLE')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
