/**
 * The kernel lab: boot to verdict per kernel (QEMU start → the kprobe check's record: kernel boot,
 * node, the client loading the cached object, attach, an event decoded in JS) against a bare boot of
 * the same kernel to its /init (busybox only), interleaved, one guest at a time; then the matrix:
 * every lab kernel, two guests at once, wall time. arm64 kernels boot with their own userland (arm64
 * busybox and node, the prebuilt linux-arm64 addon).
 * Run: node --import tsx bench/lab.ts [rounds] (LBC_LAB_KERNELS=id,id narrows it, as in the lab test)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch } from '@lbc/contract';
import { GuestRoot, baseGuestImage, bootGuest, requireLabKernels } from '@lbc/core/lab';
import { arm64NodeRoot } from '../test/support/arm64-node.ts';
import { startPrivateRedis } from '../test/support/redis.ts';
import { startService } from '../test/support/service.ts';
import { compileForLab, writeLabPayload } from '../test/lab/lab-payload.ts';
import { bootLabKernels, GUESTS_AT_ONCE, type CheckRecord } from '../test/lab/run-lab.ts';
import { fmt, median, ratio, report, timeMs } from './stats.ts';

const rounds = Number(process.argv[2] ?? 3);

async function main() {
  const kernels = requireLabKernels(process.env.LBC_LAB_KERNELS?.split(','));
  const dir = mkdtempSync(join(tmpdir(), 'lbc-bench-lab-'));
  const redis = await startPrivateRedis();
  const service = await startService({ redisUrl: redis.url });
  try {
    const cacheDir = join(dir, 'cache');
    await compileForLab(service.url, kernels, cacheDir, ['lab_kprobe']);
    const payloads: Partial<Record<Arch, string>> = {};
    const bares: Partial<Record<Arch, string>> = {};
    const withNodes: Partial<Record<Arch, string>> = {};
    for (const arch of new Set(kernels.map((k) => k.arch))) {
      payloads[arch] = join(dir, `payload-${arch}.cpio`);
      await writeLabPayload(payloads[arch], cacheDir, ['kprobe'], arch);
      bares[arch] = baseGuestImage({ node: false, arch });
      withNodes[arch] = baseGuestImage({ arch, ...(arch === 'aarch64' ? { foreignNodeRoot: await arm64NodeRoot() } : {}) });
    }
    const bareRun = join(dir, 'bare.cpio');
    new GuestRoot().addText('lab/run', '#!/bin/sh\nexit 0\n', 0o755).writeCpio(bareRun);

    const rows: [string, string][] = [];
    for (const kernel of kernels) {
      const [bare, withNode, payload] = [bares[kernel.arch]!, withNodes[kernel.arch]!, payloads[kernel.arch]!];
      const verdict: number[] = [];
      const bareInit: number[] = [];
      const nodeInit: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const b = await bootGuest({ kernel, initrds: [bare, bareRun] });
        bareInit.push(b.initMs);
        const v = await bootGuest({ kernel, initrds: [withNode, payload] });
        const at = (v.records as CheckRecord[]).findIndex((r) => r.check === 'kprobe' && r.ok);
        if (at < 0) throw new Error(`${kernel.id}: the kprobe check failed: ${JSON.stringify(v.records)}`);
        verdict.push(v.recordMs[at]!);
        nodeInit.push(v.initMs);
      }
      rows.push([kernel.id, `verdict ${fmt(median(verdict))} (${verdict.map((m) => m.toFixed(0)).join(', ')}), bare boot to /init ${fmt(median(bareInit))} (${bareInit.map((m) => m.toFixed(0)).join(', ')}): ${ratio(median(verdict), median(bareInit))}; the verdict's boot reached /init at ${fmt(median(nodeInit))} (its initramfs holds node)`]);
    }
    const [matrixMs, runs] = await timeMs(() => bootLabKernels(kernels, payloads));
    const failed = runs.filter((r) => !r.checks.get('kprobe')?.ok).map((r) => `${r.kernel.id}${r.error ? ` (${r.error.message.split('\n')[0]})` : ''}`);
    if (failed.length) throw new Error(`matrix: the kprobe check failed on ${failed.join(', ')}`);
    rows.push([`matrix (${kernels.length} kernels, ${GUESTS_AT_ONCE} at once)`, fmt(matrixMs)]);
    report(`kernel lab: boot to verdict (kprobe, event in JS) vs bare boot to /init, median of ${rounds}`, rows);
  } finally {
    await service.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
