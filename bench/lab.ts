/**
 * The kernel lab's verify (`lbc verify`'s guest side), per kernel: boot to verdict (verifyInGuest:
 * QEMU start → the runner's verdict for a kprobe + ring buffer program, 5 runs of `cat` as the
 * workload), in the hardened container (the worker's default) and as a plain child process,
 * against bare boots of the same kernel to a busybox /init: as its package ships it (the bzImage,
 * as `qemu -kernel vmlinuz` boots it, the lab's default arguments) and the way verify boots it (PVH
 * entry on x86, GUEST_KERNEL_ARGS); all interleaved, one guest at a time. Then the matrix: the program on every lab kernel, N guests at once, wall time.
 * Run: node --import tsx bench/lab.ts [rounds] [concurrency] (LBC_LAB_KERNELS=id,id narrows it)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestRoot, baseGuestImage, bootGuest, launchQemuHere, pvhKernel, requireLabKernels, type LabKernel, type QemuLauncher } from '@lbc/core/lab';
import { GUEST_DEFAULTS, GUEST_KERNEL_ARGS, verifyEachInGuest, verifyInGuest, type GuestVerdict } from '@lbc/worker';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { VERIFY_PROGRAMS_DIR, compileObject } from '../test/lab/verify-objects.ts';
import { fmt, median, ratio, report, timeMs } from './stats.ts';

const rounds = Number(process.argv[2] ?? 3);
const concurrency = Number(process.argv[3] ?? 2);
const WORKLOAD = { command: ['cat', '/etc/os-release'], repeat: 5 };

function checked(kernel: LabKernel, v: GuestVerdict): number {
  const p = v.programs.find((x) => x.name === 'on_open');
  if (v.status !== 'passed' || !p?.events) throw new Error(`${kernel.id}: no passing verdict with events: ${JSON.stringify(v)}`);
  return v.bootMs!;
}

async function main() {
  const kernels = requireLabKernels(process.env.LBC_LAB_KERNELS?.split(','));
  const dir = mkdtempSync(join(tmpdir(), 'lbc-bench-lab-'));
  const redis = await startPrivateRedis();
  const service = await startService({ redisUrl: redis.url });
  try {
    const objects = new Map<string, Buffer>();
    for (const k of kernels) objects.set(k.id, await compileObject(service.url, k, 'verify_open', VERIFY_PROGRAMS_DIR, dir));
    const bareRun = join(dir, 'bare.cpio');
    new GuestRoot().addText('lab/run', '#!/bin/sh\nexit 0\n', 0o755).writeCpio(bareRun);
    const bare = async (kernel: LabKernel, vmlinuz: string, launch: QemuLauncher, append?: string) =>
      (await bootGuest({ kernel: { ...kernel, vmlinuz }, initrds: [baseGuestImage({ node: false, arch: kernel.arch }), bareRun], memoryMb: GUEST_DEFAULTS.memoryMb, cpus: GUEST_DEFAULTS.cpus, launch, append })).initMs;
    const verify = async (kernel: LabKernel, sandbox: boolean) =>
      checked(kernel, await verifyInGuest({ arch: kernel.arch, bootImage: kernel.vmlinuz, object: objects.get(kernel.id)!, workload: WORKLOAD, ...(sandbox ? {} : { sandbox: false }) }));

    const rows: [string, string][] = [];
    const list = (xs: number[]) => xs.map((m) => m.toFixed(0)).join(', ');
    for (const kernel of kernels) {
      const pvh = kernel.arch === 'x86_64' ? await pvhKernel(kernel.vmlinuz) : kernel.vmlinuz;
      const s = { inBox: [] as number[], direct: [] as number[], bareImage: [] as number[], barePvh: [] as number[] };
      for (let i = 0; i < rounds; i++) {
        s.bareImage.push(await bare(kernel, kernel.vmlinuz, launchQemuHere));
        s.inBox.push(await verify(kernel, true));
        s.barePvh.push(await bare(kernel, pvh, launchQemuHere, GUEST_KERNEL_ARGS));
        s.direct.push(await verify(kernel, false));
      }
      const [inBox, direct, bareImage] = [median(s.inBox), median(s.direct), median(s.bareImage)];
      const barePvh = median(s.barePvh);
      rows.push([
        kernel.id,
        `verdict ${fmt(inBox)} sandboxed (${list(s.inBox)}), ${fmt(direct)} direct (${list(s.direct)}); bare boot to /init ${fmt(bareImage)} (${list(s.bareImage)})` +
          `, booted as verify boots it ${fmt(barePvh)} (${list(s.barePvh)})` +
          `: sandboxed ${ratio(inBox, bareImage)} / direct ${ratio(direct, bareImage)} of the plain boot; direct ${ratio(direct, barePvh)} of the same boot`,
      ]);
    }
    const inputs = kernels.map((k) => ({ arch: k.arch, bootImage: k.vmlinuz, object: objects.get(k.id)!, workload: WORKLOAD }));
    const [matrixMs, verdicts] = await timeMs(() => verifyEachInGuest(inputs, concurrency));
    verdicts.forEach((v, i) => {
      if (v instanceof Error) throw v;
      checked(kernels[i]!, v);
    });
    rows.push([`matrix (${kernels.length} kernels, ${concurrency} at once, sandboxed)`, fmt(matrixMs)]);
    report(`kernel lab verify: boot to verdict (kprobe + ring buffer, workload) vs bare boot to /init, median of ${rounds}`, rows);
  } finally {
    await service.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
