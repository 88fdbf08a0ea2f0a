/**
 * The client without the service, and with a service that does not know its kernel:
 * a cached object loads offline; nothing cached names the server and the cause; an unknown kernel
 * gets its BTF uploaded by the client, which then goes on.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lbc, isLbcError, detectTarget } from 'lbc-client';
import { ServiceClient } from '../client/src/transport/index.ts';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { writeVariantBtf } from '@lbc/test-support/variant-btf';

const SOURCE = readFileSync(join(import.meta.dirname, 'fixtures', 'execcount.bpf.c'), 'utf8');

async function execEventSeen(lbc: Lbc): Promise<boolean> {
  const seen: Array<{ pid: number; comm: string }> = [];
  const sub = lbc.maps.ring_events.openRingBuffer((e) => seen.push(e as { pid: number; comm: string }));
  const child = spawn('/bin/true', { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 250 && !seen.some((e) => e.pid === child.pid && e.comm === 'true'); i++) await sleep(20);
  sub.close();
  return seen.some((e) => e.pid === child.pid);
}

describe('offline and unknown-kernel behaviour', () => {
  const env = useServiceFixture('lbc-offline-');

  it('an unknown kernel: the client uploads its BTF once and the compile goes on', async () => {
    const btfPath = writeVariantBtf(env.dir);
    const sha = createHash('sha256').update(readFileSync(btfPath)).digest('hex');
    const target = { ...detectTarget(), btfSha256: sha, btfPath };
    const client = new ServiceClient({ server: env.service.url });
    try {
      expect((await client.listKernels()).map((k) => k.btfSha256)).not.toContain(sha);
      const lbc = await new Lbc('execcount', SOURCE, { server: env.service.url, cacheDir: join(env.dir, 'cache-a'), target }).ready;
      expect(lbc.origin).toBe('service');
      expect(await execEventSeen(lbc)).toBe(true);
      lbc.close();
      const uploaded = (await client.listKernels()).find((k) => k.btfSha256 === sha);
      expect(uploaded?.source).toBe('upload');
      expect(uploaded?.release).toBe(target.release);
    } finally {
      await client.close();
    }
  });

  it('a kernel without its own BTF: the service supplies it and libbpf gets it as btf_custom_path', async () => {
    const target = detectTarget({ btfPath: join(env.dir, 'no-btf-here') });
    expect(target.btfSha256).toBeUndefined();
    const cacheDir = join(env.dir, 'cache-nobtf');
    const lbc = await new Lbc('execcount', SOURCE, { server: env.service.url, cacheDir, target }).ready;
    expect(lbc.origin).toBe('service');
    expect(await execEventSeen(lbc)).toBe(true);
    lbc.close();
    // The kernel set the service chose for this release (the host's, or the variant uploaded above), stored by its hash.
    const files = readdirSync(join(cacheDir, 'btf'));
    expect(files.length).toBe(1);
    expect(createHash('sha256').update(readFileSync(join(cacheDir, 'btf', files[0]!))).digest('hex')).toBe(files[0]!.replace(/\.btf$/, ''));
    const entries = readdirSync(join(cacheDir, 'requests')).map((f) => JSON.parse(readFileSync(join(cacheDir, 'requests', f), 'utf8')));
    expect(entries.map((e) => e.btfCustomPath)).toEqual([join(cacheDir, 'btf', files[0]!)]);
    // Warm start: the object and the BTF both come from the cache.
    const warm = await new Lbc('execcount', SOURCE, { server: 'http://127.0.0.1:9', cacheDir, target }).ready;
    expect(warm.origin).toBe('cache');
    expect(await execEventSeen(warm)).toBe(true);
    warm.close();
    // A damaged BTF file is not handed to libbpf: the entry is dropped and both are fetched again.
    writeFileSync(join(cacheDir, 'btf', files[0]!), 'damaged');
    const again = await new Lbc('execcount', SOURCE, { server: env.service.url, cacheDir, target }).ready;
    expect(again.origin).toBe('service');
    again.close();
    expect(createHash('sha256').update(readFileSync(join(cacheDir, 'btf', files[0]!))).digest('hex')).toBe(files[0]!.replace(/\.btf$/, ''));
  });

  it('service stopped: the cached object loads; nothing cached: the error names the server and the cause', async () => {
    const cacheDir = join(env.dir, 'cache-b');
    const warm = await new Lbc('execcount', SOURCE, { server: env.service.url, cacheDir }).ready;
    expect(warm.origin).toBe('service');
    warm.close();

    const url = env.service.url;
    await env.service.stop();

    const offline = await new Lbc('execcount', SOURCE, { server: url, cacheDir }).ready;
    expect(offline.origin).toBe('cache');
    expect(await execEventSeen(offline)).toBe(true);
    offline.close();

    const err = await new Lbc('execcount', SOURCE, { server: url, cacheDir, cflags: ['-DNOT_CACHED=1'] }).ready.catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_SERVER_UNREACHABLE')).toBe(true);
    expect((err as Error).message).toContain(url);
    expect((err as Error).message).toContain('ECONNREFUSED');
  });
});
