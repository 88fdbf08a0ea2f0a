/**
 * The plan a verify guest's runner follows, as the client's own code works it out on the host:
 * set-up checked against the object, globals encoded at their BTF offsets, twins decided per probe
 * answer. Objects built here with the host's clang-16 (no kernel header needed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestPlan } from '../src/verify/guest-plan.ts';

const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
const volatile __u64 threshold = 7;
const volatile __u32 target_tgid = 0;
SEC("fentry/do_mmap") int on_mmap_fentry(void *ctx) { return target_tgid + threshold; }
SEC("kprobe/do_mmap") int on_mmap_kprobe(void *ctx) { return target_tgid; }
SEC("tracepoint/syscalls/sys_enter_openat") int on_open(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

describe('guestPlan: what the client would do, for the guest runner', () => {
  let dir = '';
  let object: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lbc-guest-plan-'));
    writeFileSync(join(dir, 'p.bpf.c'), SOURCE);
    const multiarch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
    execFileSync('clang-16', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${multiarch}`, '-c', join(dir, 'p.bpf.c'), '-o', join(dir, 'p.bpf.o')]);
    object = readFileSync(join(dir, 'p.bpf.o'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const lines = (plan: string) => plan.trim().split('\n').map((l) => l.split('\t'));

  it('writes autoload, map sizes, the .rodata bytes with the global at its BTF offset, the twin probe and the workload', () => {
    const plan = lines(guestPlan(object, { globals: { target_tgid: 1234 }, autoload: { on_open: false }, maxEntries: { counts: 64 } }, { command: ['cat', '/etc/os-release'], repeat: 3 }));
    expect(plan).toContainEqual(['autoload', 'on_open', '0']);
    expect(plan).toContainEqual(['max_entries', 'counts', '64']);
    const rodata = plan.find((l) => l[0] === 'initial_value')!;
    expect(rodata[1]).toBe('.rodata');
    const bytes = Buffer.from(rodata[2]!, 'hex');
    // threshold (u64, 7) first, then target_tgid (u32): the values the client would hand libbpf.
    expect(bytes.readBigUInt64LE(0)).toBe(7n);
    expect(bytes.readUInt32LE(8)).toBe(1234);
    expect(plan).toContainEqual(['probe', 'p0', 'fentry', 'do_mmap']);
    expect(plan).toContainEqual(['turn_off', 'p0', 'attaches', 'on_mmap_kprobe', 'on_mmap_fentry', 'fentry on do_mmap attaches on this kernel']);
    expect(plan).toContainEqual(['turn_off', 'p0', 'fails', 'on_mmap_fentry', 'on_mmap_kprobe', expect.stringContaining('cannot attach fentry programs on do_mmap')]);
    expect(plan).toContainEqual(['workload', '3', 'cat', '/etc/os-release']);
  });

  it('fallbacks: false leaves the twins as written; a twin turned off by autoload is no twin', () => {
    expect(guestPlan(object, { fallbacks: false })).not.toMatch(/^(probe|turn_off)\t/m);
    expect(guestPlan(object, { autoload: { on_mmap_kprobe: false } })).not.toMatch(/^(probe|turn_off)\t/m);
  });

  it('names what the object has when the set-up names what it has not', () => {
    expect(() => guestPlan(object, { globals: { nope: 1 } })).toThrow(expect.objectContaining({ code: 'LBC_ERR_GLOBAL_NOT_FOUND', message: expect.stringContaining('target_tgid') }));
    expect(() => guestPlan(object, { globals: { target_tgid: -1 } })).toThrow(expect.objectContaining({ code: 'LBC_ERR_GLOBAL_VALUE' }));
    expect(() => guestPlan(object, { maxEntries: { nope: 1 } })).toThrow(expect.objectContaining({ code: 'LBC_ERR_MAP_NOT_FOUND', message: expect.stringContaining('counts') }));
    expect(() => guestPlan(object, { autoload: { nope: true } })).toThrow(expect.objectContaining({ code: 'LBC_ERR_PROGRAM_NOT_FOUND', message: expect.stringContaining('on_open') }));
    expect(() => guestPlan(object, {}, { command: ['echo', 'a\tb'] })).toThrow(expect.objectContaining({ code: 'LBC_ERR_BAD_REQUEST' }));
  });
});
