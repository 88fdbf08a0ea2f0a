/**
 * The ingest container's hardening and bounds: it runs like a compile sandbox (no network,
 * read-only root, uid 65534, no capabilities, the package mounted read-only), and a package that
 * unpacks or decompresses past the file size limit is LBC_ERR_INGEST_TOO_LARGE, not a full disk.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestStatus } from '@lbc/contract';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';
import { startIngestHarness, type IngestHarness } from '@lbc/test-support/ingest-harness';

const LIMIT = 4 * 1024 * 1024;
const UNPACKED_LIMIT = 6 * 1024 * 1024;
let h: IngestHarness;
let fx: FixtureBuilder;
const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-limits-'));

beforeAll(async () => {
  fx = new FixtureBuilder(dir);
  h = await startIngestHarness({ workerLimits: { maxFileBytes: LIMIT }, settings: { maxUnpackedBytes: UNPACKED_LIMIT } });
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ingest = (file: string, fileName = basename(file)): Promise<IngestStatus> =>
  h.service.submit({ kind: 'upload', body: createReadStream(file), fileName }, {}, 60_000);

/** A vmlinuz of `padMb` MB of zeros before the gzip-compressed ELF; `inner`: the padding inside the compressed ELF instead. */
function paddedVmlinuz(tag: string, padMb: number, inner = false): string {
  const elf = fx.btfElf(tag);
  const out = join(dir, `${tag}.vmlinuz`);
  const pad = `head -c ${padMb * 1024 * 1024} /dev/zero`;
  execFileSync('sh', ['-c', inner ? `head -c 512 /dev/zero > ${out} && (cat ${elf}; ${pad}) | gzip -c >> ${out}` : `${pad} > ${out} && gzip -c ${elf} >> ${out}`]);
  return out;
}

/** The control file claims 1 KiB installed, so only the container's own bounds can stop what follows. */
const debWith = (n: number, vmlinuz: string, more: Record<string, string> = {}) =>
  fx.deb({ name: `linux-image-6.1.0-${n}-cloud-amd64`, version: `6.1.${n}-1`, arch: 'amd64', files: { [`/boot/vmlinuz-6.1.0-${n}-cloud-amd64`]: vmlinuz, ...more }, compression: 'xz', installedSizeKb: 1 });

describe('the ingest container', () => {
  it('runs hardened: no network, read-only root, uid 65534, no capabilities, package read-only', async () => {
    const docker = new Dockerode();
    const deb = debWith(40, paddedVmlinuz('hardened', 3));
    const running = ingest(deb);
    let info: Dockerode.ContainerInspectInfo | undefined;
    for (let i = 0; i < 400 && !info; i++) {
      const [c] = await docker.listContainers({ filters: { label: ['lbc.role=ingest', `lbc.owner.pid=${process.pid}`] } });
      if (c) info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
      else await sleep(10);
    }
    expect((await running).state).toBe('completed');
    expect(info, 'saw the ingest container').toBeDefined();
    expect(info!.Config.User).toBe('65534:65534');
    expect(info!.HostConfig).toMatchObject({ NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Privileged: false });
    const pkgMount = info!.Mounts.find((m) => m.Destination === '/in/package');
    expect(pkgMount?.RW).toBe(false);
    expect(info!.Mounts.filter((m) => m.RW).map((m) => m.Destination).sort()).toEqual(['/job/out', '/job/scratch']);
  });

  it('a kernel image over the file size limit in the package is LBC_ERR_INGEST_TOO_LARGE', async () => {
    const status = await ingest(debWith(41, paddedVmlinuz('big_member', 8)));
    expect(status.error?.code).toBe('LBC_ERR_INGEST_TOO_LARGE');
    expect(h.registry.list().map((k) => k.release)).not.toContain('6.1.0-41-cloud-amd64');
  });

  it('a vmlinuz that decompresses past the limit (a bomb) is LBC_ERR_INGEST_TOO_LARGE', async () => {
    const status = await ingest(debWith(42, paddedVmlinuz('bomb', 64, true)));
    expect(status.error?.code).toBe('LBC_ERR_INGEST_TOO_LARGE');
    expect(status.error?.message).toMatch(/file size limit/);
  });

  it('many kernel images, each under the file size limit, together over LBC_INGEST_MAX_UNPACKED_BYTES: stopped, LBC_ERR_INGEST_TOO_LARGE', async () => {
    const each = paddedVmlinuz('many', 3);
    // Outside /boot: the full unpacking pass (a /boot image would be the only member unpacked).
    const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`/opt/kernels/vmlinuz-6.1.0-${i}-extra`, each]));
    const status = await ingest(fx.deb({ name: 'linux-image-6.1.0-43-cloud-amd64', version: '6.1.43-1', arch: 'amd64', files, compression: 'xz', installedSizeKb: 1 }));
    expect(status.error?.code).toBe('LBC_ERR_INGEST_TOO_LARGE');
    expect(status.error?.message).toMatch(/unpacked to more than/);
  });
});
