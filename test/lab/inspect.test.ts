/**
 * `lbc inspect` in the kernel lab: BPF programs on a BPF program, which this host's kernel cannot
 * load. In each x86 guest the client loads lab_inspect_target (a tracepoint program with a global
 * function), then fentry on that program and freplace of its function (targets set to the loaded
 * program's fd), and inspects them: full names, attach kinds, and the targets as far as each
 * kernel reports them (Linux 5.10: not at all, and lbc says so).
 */
import { describe, expect, it } from 'vitest';
import { labKernelSpecs } from '@lbc/core/lab';
import { NOT_REPORTED } from '../../client/src/inspect/index.ts';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { compileForLab } from './lab-payload.ts';
import { labKernelIds, useLabGuests } from './lab-guests.ts';
import type { CheckRecord } from './run-lab.ts';

const PROGRAMS = ['lab_inspect_target', 'lab_inspect_tracer', 'lab_fentry'];
const X86 = labKernelSpecs().filter((k) => k.arch === 'x86_64').map((k) => k.id);
const KERNEL_IDS = labKernelIds(X86);
// Where the kernel reports a tracing link's target (target_obj_id/target_btf_id in bpf_link_info)
// and a program's load-time target (attach_btf_obj_id/attach_btf_id in bpf_prog_info).
const REPORTS_TARGETS: Record<string, boolean> = { 'bullseye-5.10': false, 'bookworm-6.1': true, 'bookworm-6.12': true, 'trixie-6.12': true };

interface Prog {
  id: number;
  name: string;
  kernelName: string;
  typeName: string;
  attach?: string;
  targets: Array<Record<string, unknown>>;
  targetNote?: string;
}

describe('kernel lab: lbc inspect on fentry and freplace programs attached to a BPF program', () => {
  const env = useServiceFixture('lbc-lab-inspect-');
  const lab = useLabGuests({
    prefix: 'lbc-lab-inspect-',
    kernelIds: KERNEL_IDS,
    prepare: ({ kernels, cacheDir }) => compileForLab(env.service.url, kernels, cacheDir, PROGRAMS),
    checks: ['inspect'],
    hookTimeoutMs: 420_000,
  });
  const record = (id: string): CheckRecord => lab.check(id, 'inspect');
  const progs = (rec: CheckRecord) => {
    const ids = rec.ids as { target: number; fentry: number; ext: number; kernelFentry: number };
    const all = rec.progs as Prog[];
    const byId = (n: number) => all.find((p) => p.id === n)!;
    return { ids, target: byId(ids.target), fentry: byId(ids.fentry), ext: byId(ids.ext), kernelFentry: byId(ids.kernelFentry) };
  };

  describe.each(KERNEL_IDS)('%s', (id) => {
    it('fentry on the program and freplace of its function both run (the target counts 1000 per replaced call)', () => {
      const rec = record(id);
      expect(BigInt(rec.fentryHits as string)).toBeGreaterThan(0n);
      expect(BigInt(rec.replacedCalls as string)).toBeGreaterThan(0n);
      const since = BigInt(rec.countedSinceAttach as string);
      expect(since).toBeGreaterThan(0n);
      expect(since % 1000n).toBe(0n);
    });

    it('full names past 15 characters, types and attach kinds', () => {
      const { target, fentry, ext } = progs(record(id));
      expect(target).toMatchObject({ name: 'lab_inspect_openat_target', kernelName: 'lab_inspect_ope', typeName: 'tracepoint' });
      expect(fentry).toMatchObject({ name: 'lab_inspect_fentry_on_bpf_prog', kernelName: 'lab_inspect_fen', typeName: 'tracing', attach: 'fentry' });
      expect(ext).toMatchObject({ name: 'lab_inspect_count_replacement', kernelName: 'lab_inspect_cou', typeName: 'ext', attach: 'freplace' });
    });

    it('targets: the program and function each is attached to, or where the kernel does not report them, a note saying so', () => {
      const rec = record(id);
      const { ids, fentry, ext, kernelFentry } = progs(rec);
      if (!REPORTS_TARGETS[id]) {
        expect(kernelFentry).toMatchObject({ targets: [], targetNote: NOT_REPORTED });
        expect(fentry).toMatchObject({ targets: [], targetNote: NOT_REPORTED });
        expect(ext).toMatchObject({ targets: [], targetNote: NOT_REPORTED });
        expect(rec.attachedBy).toEqual([]);
        expect(rec.cli).toContain('? (not reported by this kernel)');
        return;
      }
      // A kernel function: target_obj_id is vmlinux's BTF object, the name comes from that BTF.
      expect(kernelFentry.targets).toEqual([expect.objectContaining({ kind: 'kernel', btfName: 'vmlinux', func: 'do_sys_openat2', attach: 'fentry', source: 'link' })]);
      expect(rec.cli).toMatch(new RegExp(`^${ids.kernelFentry}\\s+tracing\\s+lab_fentry\\s+fentry\\s+kernel do_sys_openat2\\(\\) \\(fentry, link \\d+\\)$`, 'm'));
      const onTarget = { kind: 'program', progId: ids.target, progName: 'lab_inspect_openat_target', source: 'link' };
      expect(fentry.targets).toEqual([expect.objectContaining({ ...onTarget, attach: 'fentry', func: 'lab_inspect_openat_target' })]);
      expect(ext.targets).toEqual([expect.objectContaining({ ...onTarget, attach: 'freplace', func: 'lab_inspect_count' })]);
      expect((rec.attachedBy as Array<{ progId: number }>).map((a) => a.progId).sort()).toEqual([ids.fentry, ids.ext].sort());
      expect(rec.cli).toMatch(new RegExp(`^${ids.fentry}\\s+tracing\\s+lab_inspect_fentry_on_bpf_prog\\s+fentry\\s+prog ${ids.target} lab_inspect_openat_target:lab_inspect_openat_target\\(\\) \\(fentry, link \\d+\\)$`, 'm'));
      expect(rec.cli).toMatch(new RegExp(`^${ids.ext}\\s+ext\\s+lab_inspect_count_replacement\\s+freplace\\s+prog ${ids.target} lab_inspect_openat_target:lab_inspect_count\\(\\) \\(freplace, link \\d+\\)$`, 'm'));
    });

    it("what the kernel itself tells (the raw fields lbc reads): 5.10 neither; later kernels the link's target program and BTF type, the program info only the type", () => {
      const rec = record(id);
      const { ids } = progs(rec);
      const raw = rec.raw as Record<'fentry' | 'ext' | 'kernelFentry', { infoLen: number; attachBtfObjId?: number; attachBtfId?: number; verifiedInsns?: number }>;
      const links = rec.links as Array<{ progId: number; targetObjId: number; targetBtfId: number }>;
      const link = (prog: number) => links.find((l) => l.progId === prog)!;
      if (!REPORTS_TARGETS[id]) {
        expect(raw.fentry).toEqual({ infoLen: 208, btfId: expect.any(Number) });
        expect([link(ids.fentry), link(ids.ext)]).toEqual([expect.objectContaining({ targetObjId: 0, targetBtfId: 0 }), expect.objectContaining({ targetObjId: 0, targetBtfId: 0 })]);
        return;
      }
      for (const prog of ['fentry', 'ext'] as const) {
        expect(link(ids[prog]).targetObjId).toBe(ids.target);
        // For a BPF program target the kernel fills attach_btf_id but leaves attach_btf_obj_id 0.
        expect(raw[prog]).toMatchObject({ attachBtfObjId: 0, attachBtfId: link(ids[prog]).targetBtfId, verifiedInsns: expect.any(Number) });
      }
      // For a kernel function both name vmlinux's BTF object and the function's type id.
      const kernelLink = link(ids.kernelFentry);
      expect(kernelLink.targetObjId).toBeGreaterThan(0);
      expect(raw.kernelFentry).toMatchObject({ attachBtfObjId: kernelLink.targetObjId, attachBtfId: kernelLink.targetBtfId });
    });

    it('the target program lists its BTF functions; run counts move with stats on, for the target and the fentry program', () => {
      const rec = record(id);
      const { ids } = progs(rec);
      expect(rec.functions).toEqual(['lab_inspect_openat_target', 'lab_inspect_count']);
      const stats = rec.stats as Record<string, { runCount: string }>;
      expect(Number(stats[ids.target]!.runCount)).toBeGreaterThanOrEqual(20);
      expect(Number(stats[ids.fentry]!.runCount)).toBeGreaterThanOrEqual(20);
    });
  });
});
