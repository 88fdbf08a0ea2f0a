/**
 * A farm for lbc verify: the all-in-one launcher (API, compile worker, verify worker) with tokens
 * required (an admin, tenants alice and bob), and lab kernels made bootable kernel sets the way an
 * operator does it: their real linux-image packages (kept by scripts/lab-setup.sh under the lab
 * directory's kernels/<id>/deb/) ingested through POST /v1/kernels/ingest.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestStatus, KernelInfo } from '@lbc/contract';
import { openDatabase } from '@lbc/core';
import { TokenStore } from '@lbc/api';
import { requireLabKernels, resolveLabDir, type LabKernel } from '@lbc/core/lab';
import { startPrivateRedis, type PrivateRedis } from './redis.ts';
import { startService, type RunningService } from './service.ts';

export interface VerifyFarm {
  redis: PrivateRedis;
  service: RunningService;
  tokens: { admin: string; alice: string; bob: string };
  /** The lab kernels ingested, by lab id. */
  kernels: Record<string, KernelInfo & { labId: string }>;
  stop(): Promise<void>;
}

/** The lab kernel's own package, as lab-setup.sh downloaded it. */
export function labKernelPackage(kernel: LabKernel, labDir = resolveLabDir()): string {
  const dir = join(labDir, 'kernels', kernel.id, 'deb');
  const debs = readdirSync(dir).filter((f) => f.endsWith('.deb'));
  if (debs.length !== 1) throw new Error(`${dir} holds ${debs.length} .deb files, expected the one lab-setup.sh keeps (run bash scripts/lab-setup.sh)`);
  return join(dir, debs[0]!);
}

export async function ingestPackage(server: string, token: string, file: string): Promise<KernelInfo> {
  const name = file.slice(file.lastIndexOf('/') + 1);
  const res = await fetch(`${server}/v1/kernels/ingest?${new URLSearchParams({ name, waitMs: '120000' })}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
    body: new Uint8Array(readFileSync(file)),
  });
  const status = (await res.json()) as IngestStatus;
  if (res.status !== 201 && res.status !== 200) throw new Error(`ingesting ${name}: ${res.status} ${JSON.stringify(status)}`);
  if (!status.kernel?.bootable) throw new Error(`ingesting ${name}: the kernel set is not bootable: ${JSON.stringify(status)}`);
  return status.kernel;
}

export async function startVerifyFarm(labIds: string[], env: Record<string, string> = {}): Promise<VerifyFarm> {
  const lab = requireLabKernels(labIds);
  const dataDir = mkdtempSync(join(tmpdir(), 'lbc-verify-farm-'));
  const db = openDatabase(dataDir);
  const store = new TokenStore(db);
  const tokens = {
    admin: store.create({ tenant: 'ops', admin: true }).token,
    alice: store.create({ tenant: 'alice' }).token,
    bob: store.create({ tenant: 'bob' }).token,
  };
  db.close();
  const redis = await startPrivateRedis();
  let service: RunningService | undefined;
  try {
    service = await startService({ redisUrl: redis.url, dataDir, env: { LBC_AUTH: 'required', ...env } });
    const kernels: VerifyFarm['kernels'] = {};
    for (const k of lab) kernels[k.id] = { ...(await ingestPackage(service.url, tokens.admin, labKernelPackage(k))), labId: k.id };
    const running = service;
    return {
      redis,
      service: running,
      tokens,
      kernels,
      async stop() {
        await running.stop();
        await redis.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await service?.stop();
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
