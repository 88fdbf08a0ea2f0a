/** Which header a program compiles against, decided from its own files (header-choice.ts), and which header is the newest (core-header.ts). */
import { describe, expect, it } from 'vitest';
import type { KernelInfo } from '@lbc/contract';
import { compareReleases, newestHeader } from '@lbc/core';
import { chooseHeader } from '../src/compile/header-choice.ts';

const choose = (source: string, extra: Partial<Parameters<typeof chooseHeader>[0]> = {}) => chooseHeader({ source, includes: {}, cflags: [], ...extra });

describe('header choice', () => {
  it('a CO-RE program (vmlinux.h types, BPF_CORE_READ, bpf_core_field_exists, own structs and their sizes) compiles once per arch', () => {
    const src = `#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
struct event { u32 pid; };
struct cfs_rq___old { unsigned int nr_running; } __attribute__((preserve_access_index));
int f(struct task_struct *t) { struct event e = {}; if (bpf_core_field_exists(t->__state)) return sizeof(struct event) + sizeof(struct task_struct *); return BPF_CORE_READ(t, pid); }`;
    expect(choose(src)).toEqual({ mode: 'core' });
    // A type defined in one of the program's own headers is its own too.
    expect(choose('#include "ev.h"\nint n = sizeof(struct ev);', { includes: { 'ev.h': 'struct ev { int a; };' } })).toEqual({ mode: 'core' });
  });

  it("sizeof or __builtin_offsetof of a kernel type: the target's own header, saying which use and its relocatable form", () => {
    expect(choose('#include "vmlinux.h"\nint n = sizeof(struct task_struct);')).toEqual({
      mode: 'kernel',
      reason: 'sizeof(struct task_struct) is the layout of one kernel\'s type, fixed at compile time (bpf_core_type_size() is relocated at load)',
    });
    expect(choose('#include "vmlinux.h"\nlong o = __builtin_offsetof(struct sk_buff, len);').reason).toMatch(/^__builtin_offsetof\(struct sk_buff, …\).*bpf_core_field_offset\(\)/);
    expect(choose('int n = sizeof(const union bpf_attr);').mode).toBe('kernel');
    // In a comment it decides nothing.
    expect(choose('/* sizeof(struct task_struct) */\n// sizeof(struct mm_struct)\nint x;')).toEqual({ mode: 'core' });
  });

  it('BPF_NO_PRESERVE_ACCESS_INDEX (source or -D), minBtf and header: kernel keep the per-kernel compile; header: core forces the newest', () => {
    expect(choose('#define BPF_NO_PRESERVE_ACCESS_INDEX\n#include "vmlinux.h"').reason).toMatch(/BPF_NO_PRESERVE_ACCESS_INDEX turns off/);
    expect(choose('int x;', { cflags: ['-DBPF_NO_PRESERVE_ACCESS_INDEX'] }).reason).toMatch(/^-DBPF_NO_PRESERVE_ACCESS_INDEX/);
    expect(choose('int x;', { minBtf: true }).reason).toMatch(/minBtf/);
    expect(choose('int x;', { header: 'kernel' })).toEqual({ mode: 'kernel', reason: 'requested (header: kernel)' });
    expect(choose('int n = sizeof(struct task_struct);', { header: 'core' })).toEqual({ mode: 'core' });
  });
});

const kernel = (release: string, source: string, arch: KernelInfo['arch'] = 'x86_64', createdAt = '2026-01-01'): KernelInfo => ({
  btfSha256: `${release}-${source}-${arch}`,
  release,
  arch,
  distro: 'debian',
  source,
  btfSize: 1,
  createdAt,
  answersForRelease: true,
  bootable: false,
});

describe('the newest header of an arch', () => {
  it('orders releases by their numbers', () => {
    expect(compareReleases('6.12.118+deb13-cloud-amd64', '6.12.117+deb12-cloud-amd64')).toBeGreaterThan(0);
    expect(compareReleases('6.1.0-57-cloud-amd64', '6.12.0')).toBeLessThan(0);
    expect(compareReleases('5.10.0-46-cloud-amd64', '6.18.44-fc-v1098')).toBeLessThan(0);
  });

  it('is the newest host or package kernel of the arch; uploads never win; a target newer than all of them is its own', () => {
    const target = kernel('5.10.0-46-cloud-amd64', 'upload');
    const list = [kernel('6.1.0-57-cloud-amd64', 'package'), kernel('6.12.118+deb13-cloud-amd64', 'package'), kernel('99.0.0-evil', 'upload'), kernel('7.0.0', 'package', 'aarch64')];
    expect(newestHeader(list, 'x86_64', target).release).toBe('6.12.118+deb13-cloud-amd64');
    const newer = kernel('6.19.0-rc1', 'upload');
    expect(newestHeader(list, 'x86_64', newer)).toBe(newer);
    expect(newestHeader([], 'x86_64', target)).toBe(target);
  });
});
