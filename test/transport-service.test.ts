/** ServiceClient against the real service: the 202 + job polling path, artifacts verified by hash, kernels. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLbcError, type JobProgress } from '@lbc/contract';
import { detectTarget } from 'lbc-client';
import { ServiceClient } from '../client/src/transport/index.ts';
import { wireTarget } from '../client/src/target/detect-target.ts';
import { useServiceFixture } from '@lbc/test-support/service-fixture';

const SOURCE = readFileSync(join(import.meta.dirname, 'fixtures', 'execcount.bpf.c'), 'utf8');

describe('ServiceClient (real service)', () => {
  const env = useServiceFixture('lbc-transport-');
  let client: ServiceClient;
  beforeAll(() => {
    client = new ServiceClient({ server: env.service.url });
  });
  afterAll(() => client?.close());

  it('waitMs 0 answers 202; the client polls the job, reporting progress, until the result', async () => {
    const seen: Array<[JobProgress['stage'], string]> = [];
    const result = await client.compile(
      { name: 'execcount', source: SOURCE, cflags: ['-DPOLL_PATH=1'], target: wireTarget(detectTarget()), waitMs: 0 },
      { onProgress: (p, state) => seen.push([p.stage, state]) },
    );
    expect(result.cached).toBe(false);
    expect(seen.length).toBeGreaterThan(0);
    const object = await client.fetchArtifact(result.artifact.sha256);
    expect(createHash('sha256').update(object).digest('hex')).toBe(result.artifact.sha256);
    expect(object.length).toBe(result.artifact.size);
  });

  it('an artifact that does not hash to what was asked is refused', async () => {
    const result = await client.compile({ name: 'execcount', source: SOURCE, target: wireTarget(detectTarget()) });
    const err = await client.fetchVerified(result.artifact.url, 'f'.repeat(64)).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/sha256/);
  });

  it('an unknown kernel without BTF to upload is LBC_ERR_KERNEL_UNKNOWN with suggestions', async () => {
    const err = await client
      .compile({ name: 'execcount', source: SOURCE, target: { release: '5.4.0-nothing', arch: 'x86_64', btfSha256: 'e'.repeat(64) } })
      .catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_KERNEL_UNKNOWN')).toBe(true);
  });

  it('service errors arrive as the catalogue error the service sent', async () => {
    const err = await client.job(`compile-${'0'.repeat(64)}`).catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_JOB_NOT_FOUND')).toBe(true);
    const bad = await client.job('compile-nope').catch((e: unknown) => e);
    expect(isLbcError(bad, 'LBC_ERR_BAD_REQUEST')).toBe(true);
  });
});
