/**
 * pylcc-style kprobe tools on real Debian kernels: programs written the way pylcc's tools are
 * (lbc.h, LBC_PERF_OUTPUT / LBC_HASH / LBC_HIST2 / LBC_STACK, _() reads, hist2_push,
 * bpf_get_stackid with KERN_STACKID_FLAGS) compiled by the farm for each lab kernel and run by the
 * client in its guest, where this script's guest side (guest/pylcc-checks.mjs) makes the workload
 * itself: TCP over loopback (tcprtt), timer sleeps and children (runqlat), execs (execsnoop), opens
 * (stack counts). Functions named differently per kernel and architecture (finish_task_switch.isra.0,
 * __x64_sys_execve / __arm64_sys_execve) are found with kprobeFunctions(), as pylcc users fall back by
 * hand. Also kprobe.multi and BPF LSM where the kernel runs them, the clear errors where it does not
 * (a kernel without "bpf" among its LSMs boots a second time with the lsm= the error names), and the
 * probe helpers' answers that differ from this host's.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Arch } from '@lbc/contract';
import { labKernelSpecs } from '@lbc/core/lab';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { compileForLab } from './lab-payload.ts';
import { labKernelIds, useLabGuests } from './lab-guests.ts';
import type { CheckRecord, KernelRun } from './run-lab.ts';

const PROGRAMS_DIR = join(import.meta.dirname, 'pylcc-programs');
const SCRIPT = join(import.meta.dirname, 'guest/pylcc-checks.mjs');
const PROGRAMS = ['pylcc_tcprtt', 'pylcc_runqlat', 'pylcc_execsnoop', 'pylcc_stackcount', 'lab_kprobe_multi', 'lab_lsm'];
const CHECKS = ['probes', 'tcprtt', 'runqlat', 'execsnoop', 'stackcount', 'kprobeMulti', 'lsm'];
const SPECS = labKernelSpecs();
const KERNEL_IDS = labKernelIds();
const ARCH_OF = (id: string): Arch => SPECS.find((k) => k.id === id)!.arch;

// Measured on Debian's configs: CONFIG_FPROBE (kprobe.multi's base) is in the 6.12 kernels only.
const KPROBE_MULTI: Record<string, 'runs' | 'no-fprobe' | 'too-old'> = {
  'bullseye-5.10': 'too-old', 'bookworm-6.1': 'no-fprobe', 'bookworm-6.12': 'runs', 'trixie-6.12': 'runs', 'bookworm-6.1-arm64': 'no-fprobe',
};
// CONFIG_LSM names "bpf" from 6.1 on (5.10: CONFIG_BPF_LSM=y, but not in the default list);
// arm64 6.1 has BPF LSM active but no trampolines, which LSM programs need.
const LSM: Record<string, 'runs' | 'not-active' | 'no-trampolines'> = {
  'bullseye-5.10': 'not-active', 'bookworm-6.1': 'runs', 'bookworm-6.12': 'runs', 'trixie-6.12': 'runs', 'bookworm-6.1-arm64': 'no-trampolines',
};
const EPERM = -1;

describe('kernel lab: pylcc-style kprobe tools, kprobe.multi and BPF LSM', () => {
  const env = useServiceFixture('lbc-lab-pylcc-');
  // Kernels booted again with "bpf" added to lsm= as the first boot's error said.
  const lsmRuns = new Map<string, KernelRun>();
  const lab = useLabGuests({
    prefix: 'lbc-lab-pylcc-',
    kernelIds: KERNEL_IDS,
    prepare: ({ kernels, cacheDir }) => compileForLab(env.service.url, kernels, cacheDir, PROGRAMS, PROGRAMS_DIR),
    checks: CHECKS,
    programsDir: PROGRAMS_DIR,
    script: SCRIPT,
    timeoutMs: 240_000,
    after: async ({ runs, boot }) => {
      for (const r of runs.values()) {
        const hint = lsmHint(r.checks.get('lsm'));
        if (!hint) continue;
        const [again] = await boot([r.kernel], { checks: ['lsm'], programsDir: PROGRAMS_DIR, script: SCRIPT, timeoutMs: 150_000, append: `lsm=${hint}` });
        lsmRuns.set(r.kernel.id, again!);
      }
    },
    hookTimeoutMs: 900_000,
  });
  const { record, check: passed } = lab;
  const slotsOf = (rec: CheckRecord) => (rec.hist as Array<number | string>).map(Number);

  describe.each(KERNEL_IDS)('%s', (id) => {
    it('probe helpers: kprobes and kallsyms answer yes here (no on the host); fentry where the kernel has trampolines', () => {
      const p = passed(id, 'probes');
      expect(p.kprobeExists).toEqual({ do_sys_openat2: true, no_such_function_lbc: false });
      expect(p.fentryCanAttach).toEqual({ do_sys_openat2: ARCH_OF(id) === 'x86_64', no_such_function_lbc: false });
      expect(p.tracepointExists).toEqual({ sched_switch: true, no_such: false });
      expect(p.probeTpBtf).toEqual({ sched_switch: true, no_such: false });
      expect((p.kprobeFunctions as Record<string, string[]>).finish_task_switch.length).toBeGreaterThan(0);
      expect((p.ksyms as { do_sys_openat2: string | null }).do_sys_openat2).toMatch(/^\d+$/);
    });

    it('tcprtt: kprobe on tcp_rcv_established, srtt read through _() from struct tcp_sock into a log2 hist; events name this process and port', () => {
      const r = passed(id, 'tcprtt');
      expect(r.events as number).toBeGreaterThanOrEqual(10);
      const byComm = r.pidsByComm as Record<string, number[]>;
      expect(byComm.node).toEqual([r.pid]);
      for (const comm of Object.keys(byComm)) expect(comm).toMatch(/^(node|ksoftirqd\/\d+)$/);
      const slots = slotsOf(r);
      expect(slots.length).toBe(64);
      // Loopback RTTs under emulation: microseconds to a few seconds, never beyond 2^24 us.
      expect(slots.slice(24).every((n) => n === 0)).toBe(true);
      expect(r.histTotal as number).toBeGreaterThanOrEqual(r.events as number);
      expect(r.histText).toMatch(/^usecs\n\s+value\s+: count\s+distribution\n\s+0 -> 1\s+: \d+/);
      for (const e of r.sample as Array<{ srtt_us: number; sport: number; dport: number }>) {
        expect(e.srtt_us).toBeLessThan(1 << 24);
        expect([e.sport, e.dport]).toContain(r.port);
      }
    });

    it('runqlat: wakeup tracepoints stamp a hash, a kprobe on finish_task_switch (its name on this kernel) pushes waits into hist2', () => {
      const r = passed(id, 'runqlat');
      expect(r.func).toMatch(/^finish_task_switch(\.isra\.\d+)?$/);
      expect(r.ownWaits as number).toBeGreaterThanOrEqual(10);
      const slots = slotsOf(r);
      expect(slots.slice(24).every((n) => n === 0)).toBe(true);
      expect(r.histTotal as number).toBeGreaterThanOrEqual(r.ownWaits as number);
      expect(r.histText).toMatch(/^usecs\n\s+value\s+: count\s+distribution\n\s+0 -> 1\s+: \d+/);
    });

    it("execsnoop: kprobe + kretprobe on this architecture's execve: each child's event, its parent, comm after exec, ret 0; a failed exec's -ENOENT", () => {
      const r = passed(id, 'execsnoop');
      expect(r.func).toBe(ARCH_OF(id) === 'x86_64' ? '__x64_sys_execve' : '__arm64_sys_execve');
      const events = r.events as Array<{ pid: number; ppid: number; ret: number; comm: string; delta_ns: string | number }>;
      expect(events.map((e) => e.pid).sort()).toEqual([...(r.children as number[])].sort());
      for (const e of events) {
        expect(e).toMatchObject({ ppid: r.pid, ret: 0, comm: 'true' });
        expect(Number(e.delta_ns)).toBeGreaterThan(0);
      }
      expect(r.failed).toEqual([expect.objectContaining({ ppid: r.pid, ret: -2, comm: 'node' })]);
    });

    it('stack counts: bpf_get_stackid(KERN_STACKID_FLAGS) stacks into do_sys_openat2 resolve to kernel symbols, and ksyms names them alike', () => {
      const r = passed(id, 'stackcount');
      const stacks = r.stacks as Array<{ comm: string; frames: string[]; ksymsAgrees: boolean; unnamed: number; kstack: number }>;
      for (const s of stacks) {
        expect(s.comm).toBe('node');
        expect(s.kstack).toBeGreaterThanOrEqual(0);
        expect(s.unnamed).toBe(0);
        expect(s.ksymsAgrees).toBe(true);
      }
      const frames = stacks.flatMap((s) => s.frames);
      const syscall = ARCH_OF(id) === 'x86_64' ? /^(__x64_sys_openat|__do_sys_openat|do_syscall_64)\+0x/ : /^(__arm64_sys_openat|invoke_syscall|el0_svc_common|el0_svc)(\.constprop\.\d+)?\+0x/;
      expect(frames.some((f) => syscall.test(f)), frames.join('\n')).toBe(true);
    });

    it('kprobe.multi on vfs_*: several functions counted in one link where the kernel has fprobe; otherwise the error says why', () => {
      const r = record(id, 'kprobeMulti');
      const expected = KPROBE_MULTI[id];
      if (expected === 'runs') {
        expect(r.ok, JSON.stringify(r)).toBe(true);
        const hits = r.hits as Record<string, number>;
        expect(Object.keys(hits).every((name) => name.startsWith('vfs_')), JSON.stringify(hits)).toBe(true);
        expect(hits.vfs_read ?? 0).toBeGreaterThanOrEqual(20);
        expect(hits.vfs_write ?? 0).toBeGreaterThanOrEqual(20);
        return;
      }
      expect(r.ok).toBe(false);
      if (expected === 'no-fprobe') {
        expect(r).toMatchObject({ stage: 'attach', error: { code: 'LBC_ERR_ATTACH_UNSUPPORTED' } });
        expect((r.error as { message: string }).message).toContain('lab_multi_count → kprobe.multi vfs_*: this kernel cannot make kprobe.multi links (built without CONFIG_FPROBE)');
        return;
      }
      // 5.10: the verifier stops at bpf_get_func_ip ("invalid func unknown#173"); the client names the cause.
      expect(r).toMatchObject({ stage: 'load', error: { code: 'LBC_ERR_ATTACH_UNSUPPORTED' } });
      expect((r.error as { message: string }).message).toContain('program lab_multi_count (SEC("kprobe.multi")) is kprobe.multi, which needs Linux 5.18 or later; this kernel is 5.10.');
    });

    it('BPF LSM file_open: denies one file to this process (EPERM) where BPF LSM runs; otherwise the error says why', () => {
      const r = record(id, 'lsm');
      const expected = LSM[id];
      if (expected === 'runs') {
        expect(r.ok, JSON.stringify(r)).toBe(true);
        expect(r.activeLsms).toMatch(/(^|,)bpf(,|$)/);
        expect(r).toMatchObject({ denied: EPERM, allowed: 0, afterClose: 0 });
        expect(Number(r.opensDenied)).toBe(1);
        expect(Number(r.opensSeen)).toBeGreaterThanOrEqual(2);
        return;
      }
      expect(r.ok).toBe(false);
      const error = r.error as { code: string; message: string };
      if (expected === 'not-active') {
        // Linux 5.10 would attach it and never run it: the client refuses at attach.
        expect(r.activeLsms).not.toMatch(/(^|,)bpf(,|$)/);
        expect(r.stage).toBe('attach');
        expect(error.code).toBe('LBC_ERR_LSM_UNAVAILABLE');
        expect(error.message).toContain(`its active LSMs are ${r.activeLsms}, without "bpf" (boot with lsm=${r.activeLsms},bpf`);
        return;
      }
      expect(r.activeLsms).toMatch(/(^|,)bpf(,|$)/);
      // arm64 6.1 loads the program and refuses its trampoline at attach.
      expect(r.stage).toBe('attach');
      expect(error.code).toBe('LBC_ERR_ATTACH_UNSUPPORTED');
      expect(error.message).toContain('lab_file_open (SEC("lsm/file_open")): BPF LSM is active here');
      expect(error.message).toContain('but this kernel refuses LSM programs at attach (ENOTSUPP: no BPF trampoline support');
    });

    if (LSM[id] === 'not-active') {
      it('BPF LSM, booted again with the lsm= the error named: the same program denies the file', () => {
        const r = passed(id, 'lsm', lsmRuns);
        expect(r.cmdline).toMatch(/ lsm=\S*bpf/);
        expect(r.activeLsms).toMatch(/(^|,)bpf(,|$)/);
        expect(r).toMatchObject({ denied: EPERM, allowed: 0, afterClose: 0 });
        expect(Number(r.opensDenied)).toBe(1);
      });
    }
  });
});

/** From LBC_ERR_LSM_UNAVAILABLE's message: the list to boot with ("boot with lsm=A,B,bpf, …"). */
function lsmHint(rec: CheckRecord | undefined): string | undefined {
  if (rec?.error?.code !== 'LBC_ERR_LSM_UNAVAILABLE') return undefined;
  return /boot with lsm=([\w,]+bpf)\b/.exec(rec.error.message)?.[1];
}
