/**
 * Compile once, run on every kernel: a CO-RE program compiled for two Debian kernels of the lab is
 * one compile against the arch's newest header (this host's kernel here), one cache entry, one
 * object; a per-kernel program still compiles against each kernel's own header. (That the one
 * object loads and runs on 5.10, 6.1 and 6.12 is test/lab/core-header.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompileAccepted, CompileResult, ErrorBody, KernelInfo } from '@lbc/contract';
import { requireLabKernels } from '@lbc/core/lab';
import { COMPILES_COUNTER } from '@lbc/worker';
import { startFarm, type Farm } from '@lbc/test-support/api-farm';

const CORE_FIXES = readFileSync(resolve(import.meta.dirname, '../../../test/lab/core-programs/lab_core_fixes.bpf.c'), 'utf8');
// Reads a field the newest kernels renamed (task_struct.state became __state in 5.14): only a header
// that still has it compiles it.
const OLD_FIELD = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
SEC("tracepoint/syscalls/sys_enter_openat")
int old_state(void *ctx) {
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  bpf_printk("%ld", BPF_CORE_READ(t, state));
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
// The size of a kernel struct is a compile-time constant: it must be that kernel's.
const PER_KERNEL = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
SEC("tracepoint/syscalls/sys_enter_openat")
int task_size(void *ctx) {
  bpf_printk("%d", (int)sizeof(struct task_struct));
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

let farm: Farm;
let old: KernelInfo;
let recent: KernelInfo;
beforeAll(async () => {
  farm = await startFarm();
  const [k510, k612] = requireLabKernels(['bullseye-5.10', 'bookworm-6.12']);
  const register = async (k: typeof k510) => (await farm.registry.register({ btf: readFileSync(k!.btfPath), release: k!.release, arch: k!.arch, distro: 'debian', source: 'package' })).kernel;
  old = await register(k510);
  recent = await register(k612);
}, 120_000);
afterAll(async () => {
  await farm?.close();
});

const compile = async (name: string, source: string, kernel: KernelInfo, extra: Record<string, unknown> = {}) => {
  const res = await farm.app.inject({ method: 'POST', url: '/v1/compile', payload: { name, source, target: { release: kernel.release, arch: kernel.arch }, waitMs: 120_000, ...extra } });
  return { status: res.statusCode, body: res.json() as CompileResult & ErrorBody & CompileAccepted };
};
const compiles = async () => Number((await farm.redisOwner.command.get(COMPILES_COUNTER)) ?? 0);

describe('compile once per arch (CO-RE)', () => {
  it("a core_fixes-style program for 5.10 and for 6.12: one compile against the newest x86_64 header (the host's), one cache entry, one object", async () => {
    expect(farm.registry.coreHeader(old).btfSha256).toBe(farm.host.btfSha256);
    const before = await compiles();
    const first = await compile('lab_core_fixes', CORE_FIXES, old);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({
      cached: false,
      kernel: { btfSha256: old.btfSha256, release: old.release },
      header: { btfSha256: farm.host.btfSha256, release: farm.host.release, arch: 'x86_64', mode: 'core' },
      // libbpf's btf_custom_path (a target without /sys/kernel/btf/vmlinux) stays the target's own BTF.
      btfUrl: `/v1/kernels/${old.btfSha256}/btf`,
    });
    const second = await compile('lab_core_fixes', CORE_FIXES, recent);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ cached: true, cacheKey: first.body.cacheKey, artifact: first.body.artifact, kernel: { btfSha256: recent.btfSha256 }, header: { mode: 'core', btfSha256: farm.host.btfSha256 } });
    expect(await compiles()).toBe(before + 1);
  });

  it("the same program against 5.10's own header (header: kernel) does not compile: the case compiling once is for", async () => {
    const own = await compile('lab_core_fixes', CORE_FIXES, old, { header: 'kernel' });
    expect(own.status).toBe(422);
    expect(own.body.error.code).toBe('LBC_ERR_COMPILE');
    expect(own.body.error.message).toMatch(/no member named '__state' in 'struct task_struct'/);
  });

  it("a per-kernel program (sizeof a kernel struct) compiles against each kernel's own header, saying why", async () => {
    const a = await compile('task_size', PER_KERNEL, old);
    const b = await compile('task_size', PER_KERNEL, recent);
    expect([a.status, b.status]).toEqual([200, 200]);
    const reason = "sizeof(struct task_struct) is the layout of one kernel's type, fixed at compile time (bpf_core_type_size() is relocated at load)";
    expect(a.body.header).toEqual({ btfSha256: old.btfSha256, release: old.release, arch: 'x86_64', mode: 'kernel', reason });
    expect(b.body.header).toMatchObject({ btfSha256: recent.btfSha256, mode: 'kernel' });
    expect(a.body.cacheKey).not.toBe(b.body.cacheKey);
    expect(a.body.artifact.sha256).not.toBe(b.body.artifact.sha256);
  });

  it("a program naming a field the newest header lacks compiles against its target's own header instead, saying why; where no header has it, the target's error stands", async () => {
    const res = await compile('old_state', OLD_FIELD, old);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.header).toMatchObject({ btfSha256: old.btfSha256, mode: 'kernel' });
    expect(res.body.header.reason).toMatch(new RegExp(`^it does not compile against the newest x86_64 header \\(${farm.host.release.replace(/[.+]/g, '\\$&')}\\): .*no member named 'state' in 'struct task_struct'`));
    const again = await compile('old_state', OLD_FIELD, old);
    expect(again.body).toMatchObject({ cached: true, cacheKey: res.body.cacheKey, header: { mode: 'kernel' } });
    const none = await compile('old_state', OLD_FIELD, recent);
    expect(none.status).toBe(422);
    expect(none.body.error.message).toMatch(/no member named 'state' in 'struct task_struct'/);
  });

  it('an answer that is 202 names the header its job compiles against, and the job status names the kernel and the header', async () => {
    const src = CORE_FIXES.replace('char LICENSE', '/* 202 */ char LICENSE');
    const accepted = await compile('lab_core_fixes', src, recent, { waitMs: 0 });
    expect(accepted.status).toBe(202);
    expect(accepted.body.header).toMatchObject({ mode: 'core', btfSha256: farm.host.btfSha256 });
    let status;
    for (let i = 0; i < 600; i++) {
      status = (await farm.app.inject({ url: accepted.body.url })).json();
      if (status.state === 'completed' || status.state === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status.result).toMatchObject({ kernel: { btfSha256: recent.btfSha256 }, header: { mode: 'core', btfSha256: farm.host.btfSha256 } });
  });
});
