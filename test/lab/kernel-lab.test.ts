/**
 * The kernel lab: what this host's kernel cannot run (kprobes, kretprobes, fentry/fexit), run for
 * real on Debian's kernels under QEMU. The farm compiles each program for each kernel; each kernel
 * boots once and its guest runs every check through the client's own code (new Lbc from the local
 * cache, libbpf through the addon, events decoded in JS). Kernels missing from the lab fail the
 * file with the setup command (scripts/lab-setup.sh), never skip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireLabKernels, labKernelIds } from '@lbc/core/lab';
import { btfSha256Of } from '../../client/src/target/index.ts';
import { useServiceFixture } from '../support/service-fixture.ts';
import { compileForLab, writeLabPayload } from './lab-payload.ts';
import { bootLabKernels, type KernelRun } from './run-lab.ts';

const CHECKS = ['target', 'kprobe', 'kretprobe', 'fentry', 'fexit', 'twin'];
const KERNEL_IDS = (process.env.LBC_LAB_KERNELS?.split(',') ?? labKernelIds().filter((k) => k.arch === 'x86_64').map((k) => k.id));

describe('kernel lab: probes on real Debian kernels', () => {
  const env = useServiceFixture('lbc-kernel-lab-');
  const runs = new Map<string, KernelRun>();
  let scratch = '';

  beforeAll(async () => {
    const kernels = requireLabKernels(KERNEL_IDS);
    scratch = mkdtempSync(join(tmpdir(), 'lbc-lab-run-'));
    const cacheDir = join(scratch, 'cache');
    await compileForLab(env.service.url, kernels, cacheDir);
    const payload = join(scratch, 'payload.cpio');
    await writeLabPayload(payload, cacheDir, CHECKS);
    for (const r of await bootLabKernels(kernels, payload)) runs.set(r.kernel.id, r);
    if (process.env.LBC_LAB_DEBUG) for (const r of runs.values()) console.log(r.kernel.id, r.run.initMs, r.run.doneMs, r.run.wallMs, JSON.stringify(r.run.records, null, 1));
  }, 420_000);
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const check = (id: string, name: string) => {
    const r = runs.get(id)!;
    const record = r.checks.get(name);
    expect(record, `${id}: no record for ${name}; console tail:\n${r.run.console.slice(-30).join('\n')}`).toBeDefined();
    expect(record!.ok, `${id} ${name}: ${JSON.stringify(record)}`).toBe(true);
    return record!;
  };

  describe.each(KERNEL_IDS)('%s', (id) => {
    it('the guest runs the kernel the lab names, and its BTF is the one the farm compiled for', () => {
      const [kernel] = requireLabKernels([id]);
      const t = check(id, 'target');
      expect(t).toMatchObject({ release: kernel!.release, arch: 'x86_64', btfSha256: btfSha256Of(kernel!.btfPath) });
      expect(runs.get(id)!.run.exitCode).toBe(0);
    });

    it.each(['kprobe', 'kretprobe', 'fentry', 'fexit'])('%s: attached from the cached object, its event arrives decoded in JS', (kind) => {
      const r = check(id, kind);
      expect(r.origin).toBe('cache');
      expect(r.programs).toEqual([`lab_${kind}`]);
      const e = r.event as { pid: number; comm: string; kind: number; ret: number; path: string };
      expect(e.comm).toBe('node');
      if (kind === 'kprobe' || kind === 'fentry') expect(e.path).toMatch(new RegExp(`^/lab/no-such-file-lab_${kind}-\\d+$`));
      if (kind === 'kretprobe') expect(e.ret).toBe(-20); // ENOTDIR
      if (kind === 'fexit') expect([e.ret, e.path]).toEqual([-2, expect.stringMatching(/^\/lab\/no-such-file-fexit-\d+$/)]); // ENOENT
    });

    it('twins: fentry is chosen where the kernel loads it, its kprobe twin is turned off', () => {
      const r = check(id, 'twin');
      expect(r.fallbacks).toEqual([{ prog: 'lab_open_kprobe', instead: 'lab_open_fentry', reason: 'fentry on do_sys_openat2 loads on this kernel' }]);
      expect(r.autoload).toEqual({ lab_open_fentry: true, lab_open_kprobe: false });
      expect(r.kind).toBe(3);
    });
  });
});
