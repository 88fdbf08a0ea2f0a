/**
 * Hardware breakpoints through perf events, as pylcc's perfBreakpoint guide uses them: a BPF
 * program on PERF_TYPE_BREAKPOINT events watching variables of a child process, with the attach
 * fields users reach for (bp_type/bp_addr/bp_len, inherit, exclude_*, wakeup_events, sample_type,
 * pid/cpu), in lbc's camelCase and in pylcc's snake_case.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { HW_BREAKPOINT, Lbc, PERF_TYPE, isLbcError } from 'lbc-client';
import { useServiceFixture } from '@lbc/test-support/service-fixture';

const env = useServiceFixture('lbc-perf-bp-');

/** A write breakpoint on a variable of its own, written 10 times: how many the CPU counted. */
const PROBE = `
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
volatile int watched;
int main(void)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.type = PERF_TYPE_BREAKPOINT;
	attr.size = sizeof attr;
	attr.bp_type = HW_BREAKPOINT_W;
	attr.bp_addr = (uintptr_t)&watched;
	attr.bp_len = HW_BREAKPOINT_LEN_4;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	int fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd < 0)
		return 1;
	for (int i = 0; i < 10; i++)
		watched = i;
	long long n = -1;
	if (read(fd, &n, sizeof n) != sizeof n)
		return 1;
	printf("%lld\\n", n);
	return 0;
}
`;

/**
 * Some hypervisors take a hardware breakpoint and never fire it (no debug-register traps reach
 * the guest: perf counts 0 of 10 writes). There the counting test cannot run, and says so.
 */
function breakpointsFire(): { fire: boolean; why: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-bp-probe-'));
  try {
    writeFileSync(join(dir, 'probe.c'), PROBE);
    execFileSync('gcc', ['-O0', '-o', join(dir, 'probe'), join(dir, 'probe.c')]);
    const counted = Number(execFileSync(join(dir, 'probe'), { encoding: 'utf8' }).trim());
    return { fire: counted === 10, why: `a write breakpoint on a variable written 10 times counted ${counted} (perf_event_open, PERF_TYPE_BREAKPOINT)` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const probe = breakpointsFire();
if (!probe.fire) console.warn(`perf-breakpoint.test.ts: this machine does not deliver hardware breakpoints (${probe.why}): the counting test is skipped here; the refusal test runs`);

/** Prints the addresses of `a` and `b`, waits for a line, then: a child writes a 7 times; it writes a 5 times and reads it 3; writes b 2 and reads it 4. */
const WATCHED = `
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
volatile int a, b;
int main(void)
{
	char line[8];
	int sink = 0;
	printf("%p %p\\n", (void *)&a, (void *)&b);
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin))
		return 1;
	pid_t child = fork();
	if (child == 0) {
		for (int i = 0; i < 7; i++) a = i;
		_exit(0);
	}
	waitpid(child, 0, 0);
	for (int i = 0; i < 5; i++) a = i;
	for (int i = 0; i < 3; i++) sink += a;
	for (int i = 0; i < 2; i++) b = i;
	for (int i = 0; i < 4; i++) sink += b;
	printf("done %d\\n", sink);
	return 0;
}
`;

const PROGRAM = `
#include "lbc.h"
LBC_HASH(hits, u64, u64, 8);
SEC("perf_event")
int on_breakpoint(struct bpf_perf_event_data *ctx)
{
	u64 addr = ctx->addr, one = 1, *n = bpf_map_lookup_elem(&hits, &addr);
	if (n) __sync_fetch_and_add(n, 1);
	else bpf_map_update_elem(&hits, &addr, &one, BPF_NOEXIST);
	return 0;
}
char _license[] SEC("license") = "GPL";
`;

describe('perf-event attach: hardware breakpoints', () => {
  it.skipIf(!probe.fire)('counts writes (W, inherited by the forked child) and accesses (RW, pylcc spelling) of two variables in a child process (on a machine whose CPU delivers hardware breakpoints: probed first)', async () => {
    const binary = join(env.dir, 'watched');
    writeFileSync(`${binary}.c`, WATCHED);
    execFileSync('gcc', ['-O0', '-o', binary, `${binary}.c`]);
    const lbc = await new Lbc('perf_bp', PROGRAM, { server: env.service.url, cacheDir: join(env.dir, 'cache'), attach: false }).ready;
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const [a, b] = String((await lines.next()).value).split(' ').map((hex) => BigInt(hex));
      lbc.programs.on_breakpoint.attachPerfEvent(
        {
          type: PERF_TYPE.BREAKPOINT,
          bpType: HW_BREAKPOINT.W,
          bpAddr: a!,
          bpLen: HW_BREAKPOINT.LEN_4,
          samplePeriod: 1,
          sampleType: 0x8 /* PERF_SAMPLE_ADDR */,
          wakeupEvents: 1,
          inherit: true,
          excludeKernel: true,
          excludeHv: true,
        },
        { pid: child.pid!, cpu: -1 },
      );
      // pylcc's perfBreakpoint dict, as its guide writes it.
      lbc.programs.on_breakpoint.attachPerfEvent({ type: 5, size: 112, sample_period: 1, disabled: 1, exclude_kernel: 1, bp_type: 3, bp_addr: b!, bp_len: 4 }, { pid: child.pid!, cpu: -1 });
      child.stdin!.end('go\n');
      expect(String((await lines.next()).value)).toMatch(/^done/);
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
      const hits = new Map(lbc.maps.hits.getAll().map((e) => [e.key as bigint, Number(e.value)]));
      expect(hits.get(a!)).toBe(12); // 5 here + 7 in the forked child (inherit)
      expect(hits.get(b!)).toBe(6); // 2 writes + 4 reads (RW)
    } finally {
      child.kill();
      lbc.close();
    }
  });

  it('a breakpoint the kernel refuses names its type, address and length', async () => {
    const lbc = await new Lbc('perf_bp', PROGRAM, { server: env.service.url, cacheDir: join(env.dir, 'cache'), attach: false }).ready;
    try {
      // x86 has no read-only breakpoints, and 3 bytes is no breakpoint length anywhere.
      let err: unknown;
      try {
        lbc.programs.on_breakpoint.attachPerfEvent({ type: PERF_TYPE.BREAKPOINT, bpType: HW_BREAKPOINT.RW, bpAddr: 0x1000n, bpLen: 3, samplePeriod: 1 }, { pid: process.pid, cpu: -1 });
      } catch (e) {
        err = e;
      }
      expect(isLbcError(err, 'LBC_ERR_ATTACH')).toBe(true);
      expect((err as Error).message).toMatch(/breakpoint type 3 at 0x1000 len 3 \(pid \d+, cpu -1\): EINVAL/);
    } finally {
      lbc.close();
    }
  });
});
