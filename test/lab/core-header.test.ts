/**
 * Compile once, run on every kernel, for real: a program in the libbpf-tools core_fixes style (a
 * field of newer kernels behind bpf_core_field_exists(), the old name through a ___flavour) that
 * no lab kernel's own header compiles, compiled by the farm for 5.10, 6.1 and 6.12 — one compile
 * against the arch's newest header (the host's), one object — loads, attaches and reports in a
 * guest of each, each branch taken where its kernel has the field.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CompileResult } from '@lbc/contract';
import { requireLabKernels } from '@lbc/core/lab';
import { btfSha256Of } from '../../client/src/target/index.ts';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { compileForLab } from './lab-payload.ts';
import { useLabGuests } from './lab-guests.ts';

const PROGRAMS = resolve(import.meta.dirname, 'core-programs');
const NAME = 'lab_core_fixes';
// Which of the program's two fields each kernel has: task_struct.__state since 5.14 (bit 0), cfs_rq.nr_queued since 6.13 (bit 1).
const FIELDS: Record<string, number> = { 'bullseye-5.10': 0, 'bookworm-6.1': 1, 'bookworm-6.12': 1 };
const KERNEL_IDS = Object.keys(FIELDS);

describe('one CO-RE object for 5.10, 6.1 and 6.12, run in each', () => {
  const env = useServiceFixture('lbc-core-header-');
  const results = new Map<string, CompileResult>();
  const lab = useLabGuests({
    prefix: 'lbc-core-run-',
    // The file's subject is these three kernels together: LBC_LAB_KERNELS does not narrow it.
    kernelIds: KERNEL_IDS,
    prepare: async ({ kernels, cacheDir }) => {
      await compileForLab(env.service.url, kernels, cacheDir, [NAME], PROGRAMS);
      const source = readFileSync(join(PROGRAMS, `${NAME}.bpf.c`), 'utf8');
      for (const k of kernels) {
        const target = { release: k.release, arch: k.arch, btfSha256: btfSha256Of(k.btfPath) };
        const res = await fetch(`${env.service.url}/v1/compile`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: NAME, source, target }) });
        results.set(k.id, (await res.json()) as CompileResult);
      }
    },
    checks: ['target', 'coreFixes'],
    programsDir: PROGRAMS,
    hookTimeoutMs: 420_000,
  });

  it('the farm compiled it once: one cache key, one object, built against the newest x86_64 header for every kernel', () => {
    const all = KERNEL_IDS.map((id) => results.get(id)!);
    expect(new Set(all.map((r) => r.cacheKey)).size).toBe(1);
    expect(new Set(all.map((r) => r.artifact.sha256)).size).toBe(1);
    for (const r of all) expect(r.header).toMatchObject({ mode: 'core', arch: 'x86_64' });
    expect(all.map((r) => r.kernel.release)).toEqual(requireLabKernels(KERNEL_IDS).map((k) => k.release));
  });

  it.each(KERNEL_IDS)('%s: the object loads from the cache, attaches, and its event carries what this kernel has', (id) => {
    const target = lab.record(id, 'target');
    expect(target).toMatchObject({ ok: true, release: lab.runs.get(id)!.kernel.release });
    const record = lab.check(id, 'coreFixes');
    expect(record.origin).toBe('cache');
    const e = record.event as { pid: number; ppid: number; state: number; queued: number; fields: number; comm: string };
    expect(e.comm).toBe('node');
    expect(e.ppid).toBe(1);
    // The task is running while it makes the syscall, and is on its run queue's count.
    expect(e.state).toBe(0);
    expect(e.queued).toBeGreaterThanOrEqual(1);
    expect(e.fields).toBe(FIELDS[id]);
  });
});
