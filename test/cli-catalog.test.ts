/**
 * lbc kernels / struct / func / type against the real service, for this machine's kernel (the
 * default) and by --kernel; offsets checked against bpftool's reading of the same BTF.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StructLayout } from '@lbc/contract';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { runCli } from '@lbc/test-support/run-cli';

interface BpftoolType {
  kind: string;
  name: string;
  size?: number;
  members?: { name: string; bits_offset: number }[];
}

const hostSha = createHash('sha256').update(readFileSync('/sys/kernel/btf/vmlinux')).digest('hex');
let taskStruct: BpftoolType;

beforeAll(() => {
  const json = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], { maxBuffer: 256 * 1024 * 1024 });
  taskStruct = (JSON.parse(json.toString()) as { types: BpftoolType[] }).types.find((t) => t.kind === 'STRUCT' && t.name === 'task_struct')!;
});

describe('lbc catalog commands (CLI against the real service)', () => {
  const env = useServiceFixture('lbc-cli-catalog-');
  const lbc = (...args: string[]) => runCli([...args, '--server', env.service.url]);

  it('lbc struct task_struct prints the layout like pahole, for this machine by default', async () => {
    const r = await lbc('struct', 'task_struct');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const commOffset = taskStruct.members!.find((m) => m.name === 'comm')!.bits_offset / 8;
    expect(r.stdout.startsWith('struct task_struct {\n')).toBe(true);
    expect(r.stdout).toMatch(new RegExp(`\\tchar comm\\[16\\];\\s+/\\*\\s+${commOffset}\\s+16 \\*/`));
    expect(r.stdout).toContain(`/* size: ${taskStruct.size}, cachelines: ${Math.ceil(taskStruct.size! / 64)}, members: ${taskStruct.members!.length} */`);
    // Named nested structs stay folded unless -E.
    expect(r.stdout).toMatch(/\tstruct sched_entity se;/);
    expect(r.stdout).not.toContain('rb_left');
    const expanded = await lbc('struct', 'task_struct', '-E');
    expect(expanded.stdout).toMatch(/\t\tstruct rb_node \{\n[^}]*\t\t\tstruct rb_node \*rb_left;/);
    expect(expanded.stdout).toMatch(/\t\} se;/);
  });

  it('--json and --kernel (sha256 prefix or release)', async () => {
    const r = await lbc('struct', 'task_struct', '--json', '--kernel', hostSha.slice(0, 10));
    expect(r.code).toBe(0);
    const layout = JSON.parse(r.stdout) as StructLayout;
    expect(layout.kernel).toBe(hostSha);
    expect(layout.members.find((m) => m.path === 'se.run_node.rb_left')).toMatchObject({ depth: 2, size: 8 });
    const byRelease = await lbc('struct', 'file', '--kernel', osRelease());
    expect(byRelease.code).toBe(0);
    expect(byRelease.stdout.startsWith('struct file {')).toBe(true);
  });

  it('lbc func prints a prototype, or with a pattern every matching one', async () => {
    const one = await lbc('func', 'do_filp_open');
    expect(one.stdout).toBe('struct file *do_filp_open(int dfd, struct filename *pathname, const struct open_flags *op);\n');
    const many = await lbc('func', 'tcp_%', '--returns', 'int', '--arg-type', 'struct sock *');
    expect(many.code).toBe(0);
    const lines = many.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) expect(l).toMatch(/^int tcp_\w+\(.*struct sock \*\w*.*\);$/);
  });

  it('lbc type: typedef chain and enum values', async () => {
    const pid = await lbc('type', 'pid_t');
    expect(pid.stdout).toContain('typedef __kernel_pid_t pid_t; /* size: 4 */');
    expect(pid.stdout).toContain('pid_t -> __kernel_pid_t -> int');
    const e = await lbc('type', 'enum bpf_map_type');
    expect(e.stdout).toMatch(/^enum bpf_map_type \{/);
    expect(e.stdout).toContain('\tBPF_MAP_TYPE_HASH = 1,\n');
  });

  it('unknown names and kernels: the code, the fix and what exists instead, exit 1', async () => {
    const typo = await lbc('struct', 'task_strcut');
    expect(typo.code).toBe(1);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain('LBC_ERR_STRUCT_NOT_FOUND');
    expect(typo.stderr).toMatch(/did you mean: task_struct/);
    const kernel = await lbc('func', 'do_filp_open', '--kernel', '6.1.0-99-nowhere');
    expect(kernel.code).toBe(1);
    expect(kernel.stderr).toContain('LBC_ERR_KERNEL_UNKNOWN');
    expect(kernel.stderr).toContain(osRelease());
  });

  it('lbc kernels filters, and lists the nearest releases when none matches', async () => {
    const all = await lbc('kernels', '--arch', 'x86_64');
    expect(all.stdout).toContain(osRelease());
    expect((await lbc('kernels', '--arch', 'aarch64')).stdout.trim().split('\n')).toHaveLength(1); // the header only
    const none = await lbc('kernels', '--release', '6.1.0-99-nowhere');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('nearest');
    expect(none.stdout).toContain(hostSha.slice(0, 12));
  });
});
