/**
 * Kernels without BTF: the farm returns the object's minimized BTF (bpftool gen min_core_btf in
 * the sandbox) with the artifact, and libbpf accepts it on this machine as btf_custom_path — the
 * CO-RE program (BPF_CORE_READ of task->real_parent->tgid) loads, attaches and reports execs.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Lbc, detectTarget } from 'lbc-client';
import { parseBtf } from '@lbc/btf';
import { ServiceClient } from '../client/src/transport/index.ts';
import { useServiceFixture } from '@lbc/test-support/service-fixture';

const SOURCE = readFileSync(join(import.meta.dirname, 'fixtures', 'execcount.bpf.c'), 'utf8');
const KERNEL_BTF_BYTES = statSync('/sys/kernel/btf/vmlinux').size;

async function ppidOfTrue(lbc: Lbc): Promise<number | undefined> {
  const seen: Array<{ pid: number; ppid: number }> = [];
  const sub = lbc.maps.ring_events.openRingBuffer((e) => seen.push(e as { pid: number; ppid: number }));
  const child = spawn('/bin/true', { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 250 && !seen.some((e) => e.pid === child.pid); i++) await sleep(20);
  sub.close();
  return seen.find((e) => e.pid === child.pid)?.ppid;
}

describe('minimized BTF for kernels without their own', () => {
  const env = useServiceFixture('lbc-min-btf-');

  it('POST /v1/compile with minBtf returns it beside the artifact, under 1% of the kernel BTF; a cache hit returns it again', async () => {
    const client = new ServiceClient({ server: env.service.url });
    try {
      const req = { name: 'execcount', source: SOURCE, target: { release: osRelease(), arch: 'x86_64' as const }, minBtf: true };
      const first = await client.compile(req);
      expect(first.minBtf).toBeDefined();
      const bytes = await client.fetchVerified(first.minBtf!.url, first.minBtf!.sha256);
      expect(bytes.length).toBe(first.minBtf!.size);
      console.log(`minimized BTF: ${bytes.length} bytes, ${((bytes.length / KERNEL_BTF_BYTES) * 100).toFixed(4)}% of ${KERNEL_BTF_BYTES}`);
      expect(bytes.length / KERNEL_BTF_BYTES).toBeLessThan(0.01);
      const btf = parseBtf(bytes);
      expect(btf.findByName('task_struct', 'struct')[0]!.members.map((m) => m.name).sort()).toEqual(['real_parent', 'tgid']);

      const again = await client.compile(req);
      expect(again.cached).toBe(true);
      expect(again.minBtf).toEqual(first.minBtf);
      // Without minBtf: another cache key, no minimized BTF in the answer.
      const plain = await client.compile({ ...req, minBtf: false });
      expect(plain.cacheKey).not.toBe(first.cacheKey);
      expect(plain.minBtf).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('a client on a kernel without BTF gets the minimized BTF, and libbpf loads the CO-RE program with it', async () => {
    const target = detectTarget({ btfPath: join(env.dir, 'no-btf-here') });
    expect(target.btfSha256).toBeUndefined();
    const cacheDir = join(env.dir, 'cache');
    const lbc = await new Lbc('execcount', SOURCE, { server: env.service.url, cacheDir, target }).ready;
    try {
      expect(lbc.origin).toBe('service');
      // The relocation of task->real_parent->tgid resolved through the minimized BTF.
      expect(await ppidOfTrue(lbc)).toBe(process.pid);
    } finally {
      lbc.close();
    }
    const files = readdirSync(join(cacheDir, 'btf'));
    expect(files).toHaveLength(1);
    const stored = readFileSync(join(cacheDir, 'btf', files[0]!));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(files[0]!.replace(/\.btf$/, ''));
    expect(stored.length / KERNEL_BTF_BYTES).toBeLessThan(0.01);
  });
});
