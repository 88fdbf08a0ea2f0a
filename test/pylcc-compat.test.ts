/**
 * Programs written the way pylcc's tools are (its lbc.h names, its map macros, no include at all)
 * compile on the real service unchanged and run on this kernel: tracepoint, uprobe and perf-event
 * programs fire here; the kprobe one (this kernel has no kprobes) is compiled and loaded only.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lbc } from 'lbc-client';
import { useServiceFixture } from '@lbc/test-support/service-fixture';

const env = useServiceFixture('lbc-pylcc-');
const open = (name: string, source: string, extra: Record<string, unknown> = {}) =>
  new Lbc(name, source, { server: env.service.url, cacheDir: join(env.dir, 'cache'), ...extra }).ready;

/** Every map macro in both argument forms, the histogram helpers, _() and the byte-order macros. */
const HIST_SOURCE = `
#include "lbc.h"
LBC_HIST2(hist2);
LBC_HIST10(hist10);
LBC_HASH(by_pos, u64, u64, 64);
LBC_LRU_HASH(lru, u64, u32, 64);
LBC_PERCPU_HASH(pcpu_hash, u32, u64, 8);
LBC_LRU_PERCPU_HASH(lru_pcpu, u32, u64, 8);
LBC_ARRAY(checks, int, u64, 8);        /* pylcc's form: key type given */
LBC_ARRAY(last_pos, u64, 1);           /* lbc's form: u32 keys */
LBC_PERCPU_ARRAY(pcpu4, u32, u64, 1);
LBC_PERCPU_ARRAY(pcpu3, u64, 1);

const volatile u32 target_tgid;

static __always_inline void put(int slot, u64 v) { bpf_map_update_elem(&checks, &slot, &v, BPF_ANY); }

SEC("tracepoint/syscalls/sys_enter_pread64")
int on_pread(struct trace_event_raw_sys_enter *ctx)
{
	if (bpf_get_current_pid_tgid() >> 32 != target_tgid || ctx->args[2] != 7)
		return 0;
	long pos = ctx->args[3];
	u32 zero = 0, one = 1;
	hist2_push(&hist2, pos);
	hist10_push(&hist10, pos);
	incr_hist(&checks, 7);
	bpf_map_update_elem(&by_pos, &pos, &pos, BPF_ANY);
	bpf_map_update_elem(&lru, &pos, &one, BPF_ANY);
	bpf_map_update_elem(&last_pos, &zero, &pos, BPF_ANY);
	u64 *p = bpf_map_lookup_elem(&pcpu4, &zero);
	if (p) *p += 1;
	p = bpf_map_lookup_elem(&pcpu3, &zero);
	if (p) *p += 2;
	u64 n = 1;
	bpf_map_update_elem(&pcpu_hash, &zero, &n, BPF_ANY);
	bpf_map_update_elem(&lru_pcpu, &one, &n, BPF_ANY);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	put(0, ntohs(0x0102));
	put(1, ntohl(0x01020304));
	put(2, ntohll(0x0102030405060708ULL));
	put(3, fast_log2(pos));
	put(4, fast_log10(pos));
	put(5, _(task->tgid));
	put(6, NUM_E4 + (KERN_STACKID_FLAGS == (1 << 9)) + 2 * (USER_STACKID_FLAGS == ((1 << 9) | (1 << 8))));
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** pylcc's runlatency shape: no #include at all; u32, LBC_PERF_OUTPUT, LBC_STACK, SEC() from the implicit lbc.h. */
const NO_INCLUDE_SOURCE = `
struct data_t {
	int cpu;
	int type;
	s32 stack_id;
	u32 pid;
	u64 delayed;
};

LBC_PERF_OUTPUT(e_out, struct data_t, 128);
LBC_STACK(call_stack, 256);

static __always_inline void emit(void *ctx, int type, u64 flags)
{
	struct data_t data = {};
	data.cpu = bpf_get_smp_processor_id();
	data.type = type;
	data.pid = bpf_get_current_pid_tgid() >> 32;
	data.delayed = bpf_ktime_get_ns();
	data.stack_id = bpf_get_stackid(ctx, &call_stack, flags);
	bpf_perf_event_output(ctx, &e_out, BPF_F_CURRENT_CPU, &data, sizeof(data));
}

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) { emit(ctx, 0, KERN_STACKID_FLAGS); return 0; }

SEC("uprobe")
int on_getppid(struct pt_regs *ctx) { emit(ctx, 1, USER_STACKID_FLAGS); return 0; }

char _license[] SEC("license") = "GPL";
`;

const PERF_SOURCE = `
#include "lbc.h"
LBC_STACK(ustacks, 256);
LBC_HASH(samples, s32, u64, 256);
const volatile u32 target_tgid;

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	if (bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return 0;
	s32 id = bpf_get_stackid(ctx, &ustacks, USER_STACKID_FLAGS);
	u64 one = 1, *n = bpf_map_lookup_elem(&samples, &id);
	if (n) __sync_fetch_and_add(n, 1);
	else bpf_map_update_elem(&samples, &id, &one, BPF_NOEXIST);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** pylcc's tcprtt shape: a kprobe reading struct fields through _() into a log2 histogram. */
const KPROBE_SOURCE = `
#include "lbc.h"
LBC_HIST2(hist2);
SEC("kprobe/tcp_rcv_established")
int entry_tcp_rcv_established(struct pt_regs *ctx)
{
	struct sock *sk = (struct sock *)PT_REGS_PARM1(ctx);
	struct tcp_sock *ts = (struct tcp_sock *)sk;
	u32 srtt = _(ts->srtt_us) >> 3;
	u16 dport = ntohs(_(sk->__sk_common.skc_dport));
	lbc_debug("dport %d", dport);
	hist2_push(&hist2, srtt / 1000);
	return 0;
}
char _license[] SEC("license") = "GPL";
`;

describe('pylcc programs on lbc', () => {
  it('histograms, every map macro form and lbc.h helpers run on a tracepoint', async () => {
    const lbc = await open('pylcc_hist', HIST_SOURCE, { load: false });
    try {
      lbc.rodata.target_tgid = process.pid;
      await lbc.load();
      await lbc.attach();
      const file = join(env.dir, 'pread.bin');
      writeFileSync(file, 'x');
      const fd = openSync(file, 'r');
      const positions = [0, 1, 5, 100, 1000, 123456, 1e12];
      try {
        for (const pos of positions) readSync(fd, Buffer.alloc(7), 0, 7, pos);
      } finally {
        closeSync(fd);
      }
      expect(lbc.maps.hist2.histScale).toBe('log2');
      expect(lbc.maps.hist10.histScale).toBe('log10');
      expect(lbc.maps.checks.histScale).toBeUndefined();
      const hist2 = lbc.maps.hist2.hist();
      expect(hist2.length).toBe(64);
      expect(Object.fromEntries(hist2.map((n, i) => [i, n]).filter(([, n]) => n))).toEqual({ 0: 2, 2: 1, 6: 1, 9: 1, 16: 1, 39: 1 });
      const hist10 = lbc.maps.hist10.hist();
      expect(hist10.length).toBe(20);
      expect(Object.fromEntries(hist10.map((n, i) => [i, n]).filter(([, n]) => n))).toEqual({ 0: 3, 2: 1, 3: 1, 5: 1, 12: 1 });

      const shown10 = lbc.maps.hist10.showHist('hist10:');
      expect(shown10.split('\n')[0]).toBe('hist10:');
      expect(shown10).toMatch(/^\s+0 -> 9\s+: 3\s+\|\*{40}\|$/m);
      expect(shown10).toMatch(/^\s+100 -> 999\s+: 1\s+\|\*{13}\s+\|$/m);
      expect(shown10).toMatch(/^\s+1000000000000 -> 9999999999999\s+: 1\s/m);
      const shown2 = lbc.maps.hist2.showHist({ label: 'bytes' });
      expect(shown2).toMatch(/^\s+64 -> 127\s+: 1\s/m);
      expect(shown2).toMatch(/^\s+549755813888 -> 1099511627775\s+: 1\s/m);

      const checks = lbc.maps.checks.getAll().map((e) => e.value);
      expect(checks).toEqual([0x0201n, 0x04030201n, 0x0807060504030201n, 39n, 12n, BigInt(process.pid), 10000n + 3n, 7n]);
      expect(lbc.maps.checks.keyType).toBe('int');
      expect(lbc.maps.last_pos.keyType).toBe('u32');
      expect(lbc.maps.last_pos.get(0)).toBe(BigInt(1e12));
      expect(lbc.maps.by_pos.keys().map(Number).sort((a, b) => a - b)).toEqual(positions);
      expect(lbc.maps.lru.typeName).toBe('lru_hash');
      expect(lbc.maps.lru.keys()).toHaveLength(positions.length);
      const sum = (v: unknown) => (v as bigint[]).reduce((a, b) => a + b, 0n);
      expect(sum(lbc.maps.pcpu4.get(0))).toBe(7n);
      expect(sum(lbc.maps.pcpu3.get(0))).toBe(14n);
      expect(lbc.maps.pcpu4.typeName).toBe('percpu_array');
      expect(lbc.maps.pcpu_hash.typeName).toBe('percpu_hash');
      expect(lbc.maps.lru_pcpu.typeName).toBe('lru_percpu_hash');
      expect(sum(lbc.maps.lru_pcpu.get(1))).toBeGreaterThanOrEqual(1n);
    } finally {
      lbc.close();
    }
  });

  it('a source with no #include gets lbc.h: perf output decoded, kernel and user stacks by the stack flags', async () => {
    const lbc = await open('pylcc_noinc', NO_INCLUDE_SOURCE);
    try {
      expect(lbc.unattached.map((u) => u.prog)).toEqual(['on_getppid']);
      // pylcc's call shape, program name first (the alias layer in client/src/pylcc-attach.ts).
      lbc.attachUprobe('on_getppid', process.pid, 'libc', 'getppid');
      const events: Array<{ type: number; stack_id: number; pid: number }> = [];
      lbc.maps.e_out.openPerfBuffer((e) => events.push(e as (typeof events)[number]));
      const child = spawn('/bin/true');
      const childPid = child.pid;
      await new Promise((r) => child.once('exit', r));
      void process.ppid; // libuv's uv_os_getppid → libc getppid()
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && !(events.some((e) => e.type === 0 && e.pid === childPid) && events.some((e) => e.type === 1))) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const exec = events.find((e) => e.type === 0 && e.pid === childPid);
      const uprobe = events.find((e) => e.type === 1 && e.pid === process.pid);
      expect(exec?.stack_id).toBeGreaterThanOrEqual(0);
      expect(uprobe?.stack_id).toBeGreaterThanOrEqual(0);
      const kernelFrames = lbc.maps.call_stack.stacks(exec!.stack_id);
      expect(kernelFrames.every((f) => f.kernel)).toBe(true);
      expect(kernelFrames.map((f) => f.name).join(' ')).toMatch(/exec/);
      const userFrames = lbc.maps.call_stack.stacks(uprobe!.stack_id, { pid: process.pid });
      expect(userFrames.every((f) => !f.kernel)).toBe(true);
      expect(userFrames[0]?.name).toMatch(/getppid/);
    } finally {
      lbc.close();
    }
  });

  it('a perf-event program samples a busy child and records its user stacks with USER_STACKID_FLAGS', async () => {
    const lbc = await open('pylcc_perf', PERF_SOURCE, { load: false, attach: false });
    const child = spawn(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 1500);']);
    try {
      lbc.rodata.target_tgid = child.pid!;
      await lbc.load();
      lbc.attachPerfEvent('on_sample', { type: 1 /* PERF_TYPE_SOFTWARE */, config: 0 /* CPU_CLOCK */, samplePeriod: 1_000_000 }, { pid: child.pid!, cpu: -1 });
      await new Promise((r) => child.once('exit', r));
      const samples = lbc.maps.samples.getAll() as Array<{ key: number; value: bigint }>;
      const recorded = samples.filter((s) => s.key >= 0);
      expect(recorded.reduce((a, s) => a + s.value, 0n)).toBeGreaterThan(10n);
      const frames = lbc.maps.ustacks.stacks(recorded[0]!.key);
      expect(frames.length).toBeGreaterThan(0);
      expect(frames.every((f) => !f.kernel)).toBe(true);
    } finally {
      child.kill();
      lbc.close();
    }
  });

  it('a kprobe program in tcprtt shape compiles and loads (this kernel cannot attach kprobes)', async () => {
    const lbc = await open('pylcc_kprobe', KPROBE_SOURCE, { attach: false });
    try {
      expect(lbc.programs.map((p) => p.name)).toEqual(['entry_tcp_rcv_established']);
      expect(lbc.maps.hist2.histScale).toBe('log2');
      expect(lbc.maps.hist2.hist().every((n) => n === 0)).toBe(true);
    } finally {
      lbc.close();
    }
  });
});
