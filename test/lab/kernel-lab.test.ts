/**
 * The kernel lab: what this host's kernel cannot run (kprobes, kretprobes, fentry/fexit), run for
 * real on Debian's kernels under QEMU. The farm compiles each program for each kernel; each kernel
 * boots once and its guest runs every check through the client's own code (new Lbc from the local
 * cache, libbpf through the addon, events decoded in JS). Kernels missing from the lab fail the
 * file with the setup command (scripts/lab-setup.sh), never skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Arch } from '@lbc/contract';
import { requireLabKernels, labKernelSpecs } from '@lbc/core/lab';
import { btfSha256Of } from '../../client/src/target/index.ts';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { runCli } from '@lbc/test-support/run-cli';
import { compileForLab, labProgramNames } from './lab-payload.ts';
import { labKernelIds, useLabGuests } from './lab-guests.ts';
import { LAB_DOC_PATH, labDoc, labDocRow } from './lab-doc.ts';

const CHECKS = ['target', 'kprobe', 'kretprobe', 'fentry', 'fexit', 'twin', 'mmapTwin', 'trace'];
// test/lab/inspect.test.ts compiles and runs the lab_inspect_* programs itself.
const PROGRAMS = labProgramNames().filter((name) => !name.startsWith('lab_inspect_'));
// do_mmap takes 8 (5.10) or 9 arguments; x86 BPF trampolines take more than 6 since Linux 6.5, so
// there fentry attaches; before, it loads and the attach fails (-ENOTSUPP): the kprobe twin must run.
// arm64 6.1 has no BPF trampolines at all (no direct calls before 6.5 there): every fentry/fexit
// program loads and its attach fails with -ENOTSUPP (-524), so every twin runs its kprobe.
const MMAP_TWIN_RUNS: Record<string, 'fentry' | 'kprobe'> = {
  'bullseye-5.10': 'kprobe', 'bookworm-6.1': 'kprobe', 'bookworm-6.12': 'fentry', 'trixie-6.12': 'fentry', 'bookworm-6.1-arm64': 'kprobe',
};
const NO_TRAMPOLINES = new Set(['bookworm-6.1-arm64']);
// The first argument's register in a kprobe_events fetch-arg, by architecture.
const ARG0_REGISTER: Record<Arch, string> = { x86_64: '%di', aarch64: '%x0' };
const SPECS = labKernelSpecs();
const KERNEL_IDS = labKernelIds();

describe('kernel lab: probes on real Debian kernels', () => {
  const env = useServiceFixture('lbc-kernel-lab-');
  const lab = useLabGuests({
    prefix: 'lbc-lab-run-',
    kernelIds: KERNEL_IDS,
    prepare: ({ kernels, cacheDir }) => compileForLab(env.service.url, kernels, cacheDir, PROGRAMS),
    checks: CHECKS,
    hookTimeoutMs: 420_000,
  });
  const { runs, check } = lab;

  describe.each(KERNEL_IDS)('%s', (id) => {
    it('the guest runs the kernel the lab names, and its BTF is the one the farm compiled for', () => {
      const [kernel] = requireLabKernels([id]);
      const t = check(id, 'target');
      expect(t).toMatchObject({ release: kernel!.release, arch: kernel!.arch, btfSha256: btfSha256Of(kernel!.btfPath) });
      expect(runs.get(id)!.run!.exitCode).toBe(0);
    });

    it.each(['kprobe', 'kretprobe', 'fentry', 'fexit'])('%s: attached from the cached object, its event arrives decoded in JS', (kind) => {
      if (NO_TRAMPOLINES.has(id) && (kind === 'fentry' || kind === 'fexit')) {
        // Loaded (the verifier accepted it), refused at attach: the kernel's own answer, named.
        const r = runs.get(id)!.checks.get(kind);
        expect(r, `${id}: no record for ${kind}`).toMatchObject({ ok: false, error: { code: 'LBC_ERR_ATTACH' } });
        expect(r!.error!.message).toContain(`lab_${kind} → SEC("${kind}/do_sys_openat2"): ENOTSUPP`);
        return;
      }
      const r = check(id, kind);
      expect(r.origin).toBe('cache');
      expect(r.programs).toEqual([`lab_${kind}`]);
      const e = r.event as { pid: number; ppid: number; comm: string; kind: number; ret: number; path: string };
      expect(e.comm).toBe('node');
      expect(e.ppid).toBe(1); // CO-RE: task->real_parent->tgid; /lab/run exec'd node under init
      if (kind === 'kprobe' || kind === 'fentry') expect(e.path).toMatch(new RegExp(`^/lab/no-such-file-lab_${kind}-\\d+$`));
      if (kind === 'kretprobe') expect(e.ret).toBe(-20); // ENOTDIR
      if (kind === 'fexit') expect([e.ret, e.path]).toEqual([-2, expect.stringMatching(/^\/lab\/no-such-file-fexit-\d+$/)]); // ENOENT
    });

    it('twins: fentry is chosen where the kernel attaches it, its kprobe twin is turned off (where it cannot, the kprobe runs)', () => {
      const r = check(id, 'twin');
      if (NO_TRAMPOLINES.has(id)) {
        expect(r.fallbacks).toEqual([{ prog: 'lab_open_fentry', instead: 'lab_open_kprobe', reason: 'this kernel cannot attach fentry programs on do_sys_openat2 (no BPF trampoline for it)' }]);
        expect(r.autoload).toEqual({ lab_open_fentry: false, lab_open_kprobe: true });
        expect(r.kind).toBe(1);
        return;
      }
      expect(r.fallbacks).toEqual([{ prog: 'lab_open_kprobe', instead: 'lab_open_fentry', reason: 'fentry on do_sys_openat2 attaches on this kernel' }]);
      expect(r.autoload).toEqual({ lab_open_fentry: true, lab_open_kprobe: false });
      expect(r.kind).toBe(3);
    });

    it('twins where fentry loads but cannot attach (do_mmap, 7+ arguments): the kprobe runs before 6.5, fentry after', () => {
      const r = check(id, 'mmapTwin');
      const runs = MMAP_TWIN_RUNS[id];
      const off = runs === 'fentry' ? 'lab_mmap_kprobe' : 'lab_mmap_fentry';
      expect(r.autoload).toEqual({ lab_mmap_fentry: runs === 'fentry', lab_mmap_kprobe: runs === 'kprobe' });
      expect((r.fallbacks as Array<{ prog: string }>).map((f) => f.prog)).toEqual([off]);
      expect(r.kind).toBe(runs === 'fentry' ? 3 : 1);
      // Without the fallback, both programs as written: where fentry cannot attach, the attach fails.
      if (runs === 'fentry') expect(r.asWritten).toEqual({ attached: true });
      else expect(r.asWritten).toEqual({ attached: false, code: 'LBC_ERR_ATTACH', message: expect.stringContaining('lab_mmap_fentry → SEC("fentry/do_mmap"): ENOTSUPP') });
    });

    it("lbc trace p/r, live: members read at the kernel's BTF offsets name the forked child; $retval is the open's -ENOENT; nothing left behind", () => {
      const r = check(id, 'trace');
      expect(r.entry).toMatch(/ p0: \(wake_up_new_task\+0x[0-9a-f]+\/0x[0-9a-f]+\) comm="node" pid=\d+$/);
      expect(r.ret).toMatch(/ r1: \(.+ <- do_sys_openat2\) ret=-2$/);
      expect(r.exit).toBe(0);
      expect(r.kprobeEventsAfter).toBe('');
    });
  });

  describe.each(KERNEL_IDS)('%s, translated on the host', (id) => {
    it("lbc trace -S --kernel (the farm's copy of its BTF): the offsets are pahole's for the kernel's own BTF", async () => {
      const [kernel] = requireLabKernels([id]);
      const r = await runCli(['trace', '--server', env.service.url, '--kernel', btfSha256Of(kernel!.btfPath), '-S', 'p wake_up_new_task comm=%0->comm pid=%0->pid']);
      expect(r.code, r.stderr).toBe(0);
      const layout = execFileSync('pahole', ['-F', 'btf', '-C', 'task_struct', kernel!.btfPath], { encoding: 'utf8' });
      const hex = (member: RegExp) => Number(member.exec(layout)![1]).toString(16);
      const comm = hex(/\schar\s+comm\[16\];\s+\/\*\s+(\d+)/);
      const pid = hex(/\spid_t\s+pid;\s+\/\*\s+(\d+)/);
      const reg = ARG0_REGISTER[kernel!.arch];
      expect(r.stdout).toMatch(new RegExp(` wake_up_new_task comm=\\+0x${comm}\\(${reg}\\):string pid=\\+0x${pid}\\(${reg}\\):[su]32' >> `));
    });
  });

  it(`${LAB_DOC_PATH} lists what each kernel verified`, () => {
    const rows = KERNEL_IDS.map((id) => labDocRow(SPECS.find((s) => s.id === id)!, runs.get(id)!.checks));
    if (process.env.LBC_UPDATE_DOCS === '1' && KERNEL_IDS.length === SPECS.length) writeFileSync(LAB_DOC_PATH, labDoc(rows));
    const page = existsSync(LAB_DOC_PATH) ? readFileSync(LAB_DOC_PATH, 'utf8') : '';
    for (const row of rows) expect(page, `${LAB_DOC_PATH} is stale: LBC_UPDATE_DOCS=1 npx vitest run test/lab/kernel-lab.test.ts`).toContain(row);
  });
});
