/**
 * Objects leave the sandbox without DWARF, as libbpf-tools' do (llvm-strip -g): within 1.05x of
 * `llvm-strip -g` of clang's own output, and still everything a loader needs: .BTF (map and event
 * types), .BTF.ext (CO-RE relocations, line info for verifier messages), loadable on this kernel.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE, LBC_HEADER_DIR } from '@lbc/core';
import { compileProgram } from '../src/compile/compile-program.ts';
import { compileArgs, mainFileName } from '../src/compile/clang-args.ts';
import { SANDBOX_KERNEL, SANDBOX_LBC, SANDBOX_OUT, SANDBOX_SRC } from '../src/sandbox/warm-pool.ts';
import { startSandboxFixture, type SandboxFixture } from '@lbc/test-support/sandbox-fixture';

/** A small program reading task_struct through _(): clang's DWARF describes the whole type graph. */
const TASK_PROGRAM = `
#include "lbc.h"
struct event { u32 pid; u32 ppid; char comm[16]; };
LBC_RINGBUF(events, struct event, 1 << 12);
LBC_HASH(ppids, u32, u32, 64);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  struct task_struct *parent = _(t->real_parent);
  u32 pid = _(t->tgid);
  u32 ppid = _(parent->tgid);
  bpf_map_update_elem(&ppids, &pid, &ppid, BPF_ANY);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

let fx: SandboxFixture;
let work: string;

beforeAll(async () => {
  fx = await startSandboxFixture();
  work = mkdtempSync(join(tmpdir(), 'lbc-strip-test-'));
});
afterAll(async () => {
  await fx?.close();
  rmSync(work, { recursive: true, force: true });
});

const sections = (path: string) =>
  execFileSync('readelf', ['-SW', path], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s*\[\s*\d+\]\s+(\S+)/.exec(l)?.[1])
    .filter((n): n is string => Boolean(n));

/** clang's own output for the same job, unstripped: the same image, kernel set and arguments, no strip. */
function unstrippedObject(name: string, source: string, kernelSetDir: string): string {
  const src = join(work, `${name}-src`);
  const out = join(work, `${name}-out`);
  mkdirSync(src);
  mkdirSync(out);
  chmodSync(out, 0o777);
  writeFileSync(join(src, mainFileName(name)), source);
  const args = compileArgs({ name, arch: 'x86_64', cflags: [], pch: undefined });
  execFileSync('docker', [
    'run', '--rm', '--network', 'none', '--user', '65534:65534', '-w', SANDBOX_SRC,
    '-v', `${src}:${SANDBOX_SRC}:ro`, '-v', `${out}:${SANDBOX_OUT}`, '-v', `${kernelSetDir}:${SANDBOX_KERNEL}:ro`, '-v', `${LBC_HEADER_DIR}:${SANDBOX_LBC}:ro`,
    DEFAULT_IMAGE, 'clang', ...args,
  ], { stdio: 'pipe' });
  return join(out, `${name}.bpf.o`);
}

describe('stripped objects', () => {
  it('carry no DWARF, are within 1.05x of llvm-strip -g of clang\'s output, and keep .BTF and .BTF.ext', async () => {
    const set = await fx.kernelSets.ensure(fx.job('task', '').btfSha256);
    const result = await compileProgram({ pool: fx.pool, timeoutMs: 60_000 }, fx.job('task', TASK_PROGRAM), set);
    if (!result.ok) throw new Error(result.diagnostics);
    const artifact = join(work, 'task.bpf.o');
    writeFileSync(artifact, result.object);

    const raw = unstrippedObject('task', TASK_PROGRAM, set.dir);
    const reference = join(work, 'task.reference.o');
    execFileSync('llvm-strip', ['-g', raw, '-o', reference]);
    const [rawSize, artifactSize, referenceSize] = [raw, artifact, reference].map((p) => statSync(p).size);
    console.log(`task_struct via _(): clang -g ${rawSize} bytes, artifact ${artifactSize}, llvm-strip -g ${referenceSize} (${(artifactSize / referenceSize).toFixed(3)}x)`);

    expect(artifactSize).toBeLessThanOrEqual(referenceSize * 1.05);
    expect(rawSize).toBeGreaterThan(artifactSize * 10);
    const names = sections(artifact);
    expect(names.filter((n) => n.startsWith('.debug'))).toEqual([]);
    expect(sections(raw).some((n) => n.startsWith('.debug_info'))).toBe(true);
    expect(names).toEqual(expect.arrayContaining(['.BTF', '.BTF.ext', '.maps', 'tracepoint/sched/sched_process_exec']));

    // Types for the client's decoding are still there.
    const btf = execFileSync('bpftool', ['btf', 'dump', 'file', artifact], { encoding: 'utf8' });
    expect(btf).toMatch(/DECL_TAG 'lbc\.event=struct event'/);
    expect(btf).toMatch(/STRUCT 'task_struct'/);

    // It loads (CO-RE relocations from .BTF.ext resolved), and its line info names the source lines.
    const pin = `/sys/fs/bpf/lbc-strip-${process.pid}-${Date.now()}`;
    mkdirSync(pin);
    try {
      execFileSync('bpftool', ['prog', 'loadall', artifact, pin], { stdio: 'pipe' });
      const xlated = execFileSync('bpftool', ['prog', 'dump', 'xlated', 'pinned', join(pin, 'on_exec'), 'linum'], { encoding: 'utf8' });
      expect(xlated).toMatch(/u32 ppid = _\(parent->tgid\);.*task\.bpf\.c/);
    } finally {
      rmSync(pin, { recursive: true, force: true });
    }
    expect(readFileSync(artifact).includes(Buffer.from(fx.dataDir))).toBe(false);
  });

  it('a program that prints the strip failure text itself is a compile error, not a sandbox fault', async () => {
    const set = await fx.kernelSets.ensure(fx.job('liar', '').btfSha256);
    const result = await compileProgram({ pool: fx.pool, timeoutMs: 60_000 }, fx.job('liar', '#include "lbc.h"\n#error lbc: llvm-strip -g failed\n'), set);
    expect(result).toMatchObject({ ok: false, code: 'LBC_ERR_COMPILE' });
  });
});
