/**
 * `lbc graph` on real kernels (the kernel lab): this host's kernel has neither function_graph nor
 * BPF trampolines, Debian's cloud kernels have both. In each guest the bundled CLI traces
 * do_sys_openat2 for a `cat` with both engines, and the kernel's own function_graph, driven by hand
 * as a user's shell script would, traces the same workload: the trees must show what the kernel
 * showed, at the same depths; the engines must agree; --include/--exclude must hold; nothing may
 * stay behind (tracer settings, instances, the lock, BPF links), also after a run killed hard.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapBounded, type LabKernel } from '@lbc/core/lab';
import { Lbc } from 'lbc-client';
import { GRAPH_PROBE_NAME, GRAPH_PROBE_SOURCE } from '../../client/src/graph/graph-probe-source.ts';
import { btfSha256Of } from '../../client/src/target/index.ts';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { runCli } from '@lbc/test-support/run-cli';
import { labKernelIds, useLabGuests } from './lab-guests.ts';

const GRAPH_CHECKS = resolve(import.meta.dirname, 'guest/graph-checks.mjs');
const CHECKS = ['kernel', 'ftrace', 'bpf', 'filters', 'crash'];
const KERNEL_IDS = labKernelIds();
// arm64 6.1 has no BPF trampolines: there --engine bpf is refused, naming what it needs.
const NO_TRAMPOLINES = new Set(['bookworm-6.1-arm64']);

interface Node {
  func: string;
  depth: number;
  ret?: string;
  args?: string[];
  durationNs?: number;
  children: Node[];
}
interface Call {
  pid: number;
  comm: string;
  root: Node;
}

/** The kernel's own function_graph text for `cat`'s do_sys_openat2 → each call's callees by depth (from the indentation alone). */
function kernelCalls(text: string): Array<Array<{ func: string; depth: number; parent?: string }>> {
  const out: Array<Array<{ func: string; depth: number; parent?: string }>> = [];
  const stack: string[] = [];
  for (const line of text.split('\n')) {
    const body = line.split('|')[2];
    if (body === undefined) continue;
    // Two spaces, then two more a level.
    const m = /^ {2}( *)([\w.]+)\(\)(;| \{)/.exec(body);
    if (!m) {
      if (/^ *\}/.test(body)) stack.pop();
      continue;
    }
    const depth = m[1]!.length / 2;
    if (depth === 0) out.push([]);
    stack.length = depth;
    out.at(-1)?.push({ func: m[2]!, depth, parent: stack[depth - 1] });
    if (m[3] === ' {') stack.push(m[2]!);
  }
  return out;
}

// Interrupt entry and exit run in the task's context before the interrupt counts as one, so the
// kernel's own function_graph shows them (funcgraph-irqs off hides only what runs inside): not calls of FUNC.
// So does the softirq run on the way out of one (handle_softirqs, __do_softirq before 6.8), entered
// before it raises the softirq count: one interrupt during cat's open put it at depth 1 in one run.
const IRQ_NOISE = /^(irq_enter|irq_exit|idle_cpu|rcu_irq|__?sysvec_|smp_apic|__irq_|irqtime_|account_|handle_softirqs$|__do_softirq$|do_softirq$|invoke_softirq$)/;
const named = (n: Node, func: string): Node | undefined => n.children.find((c) => c.func === func);
const depthOne = (c: Call) => c.root.children.map((n) => n.func).filter((f) => !IRQ_NOISE.test(f));
const everyNode = (n: Node): Node[] => [n, ...n.children.flatMap(everyNode)];

async function compileGraphProbe(server: string, kernels: readonly LabKernel[], cacheDir: string): Promise<void> {
  await mapBounded(kernels, 2, async (kernel) => {
    const target = { release: kernel.release, arch: kernel.arch, distro: 'debian', btfSha256: btfSha256Of(kernel.btfPath), btfPath: kernel.btfPath };
    (await new Lbc(GRAPH_PROBE_NAME, GRAPH_PROBE_SOURCE, { server, cacheDir, target, load: false, fallbacks: false }).ready).close();
  });
}

describe('lbc graph on this host', () => {
  it('names both requirements when the kernel has neither function_graph nor BPF trampolines', async () => {
    const r = await runCli(['graph', 'do_sys_openat2', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LBC_ERR_GRAPH_UNSUPPORTED');
    expect(r.stderr).toMatch(/neither the function_graph tracer .* nor BPF trampolines for fentry\/fexit/);
  });
});

describe('lbc graph in the kernel lab', () => {
  const env = useServiceFixture('lbc-graph-lab-');
  const { check } = useLabGuests({
    prefix: 'lbc-graph-lab-',
    kernelIds: KERNEL_IDS,
    prepare: ({ kernels, cacheDir }) => compileGraphProbe(env.service.url, kernels.filter((k) => !NO_TRAMPOLINES.has(k.id)), cacheDir),
    checks: CHECKS,
    script: GRAPH_CHECKS,
    timeoutMs: 600_000,
    hookTimeoutMs: 1_500_000,
  });
  /** cat's call that opened the file (the one through do_filp_open that returned a descriptor). */
  const catOpen = (calls: Call[]) => calls.find((c) => c.comm.startsWith('cat') && named(c.root, 'do_filp_open') && !named(c.root, 'put_unused_fd'));

  describe.each(KERNEL_IDS)('%s', (id) => {
    it("ftrace engine: cat's open shows the callees the kernel's own function_graph shows, at the same depths", () => {
      const reference = kernelCalls(check(id, 'kernel').text as string).find((c) => c.some((n) => n.func === 'do_filp_open') && !c.some((n) => n.func === 'put_unused_fd'));
      expect(reference, 'the kernel traced no successful open by cat').toBeDefined();
      const ours = catOpen(check(id, 'ftrace').calls as Call[]);
      expect(ours, 'lbc graph showed no open by cat').toBeDefined();
      expect(ours!.root.func).toBe('do_sys_openat2');
      expect(depthOne(ours!)).toEqual(reference!.filter((n) => n.depth === 1 && !IRQ_NOISE.test(n.func)).map((n) => n.func));
      expect(depthOne(ours!)).toEqual(expect.arrayContaining(['getname', 'do_filp_open']));
      const underOpen = reference!.filter((n) => n.depth === 2 && n.parent === 'do_filp_open' && !IRQ_NOISE.test(n.func)).map((n) => n.func);
      expect(underOpen).toContain('path_openat');
      expect(named(ours!.root, 'do_filp_open')!.children.map((n) => n.func).filter((f) => !IRQ_NOISE.test(f))).toEqual(underOpen);
      // -d 2: nothing deeper; durations nest.
      expect(everyNode(ours!.root).every((n) => n.depth <= 2)).toBe(true);
      const open = named(ours!.root, 'do_filp_open')!;
      expect(open.durationNs).toBeGreaterThan(0);
      expect(open.durationNs!).toBeLessThanOrEqual(ours!.root.durationNs!);
    });

    it('ftrace engine: the text is function_graph-like, and tracefs is as it was found afterwards', () => {
      const r = check(id, 'ftrace');
      expect(r.text).toMatch(/^# do_sys_openat2: pid \d+ \(cat\)/m);
      // --proto: prototypes from the kernel's BTF in place of ().
      expect(r.text).toMatch(/^ +\d+\.\d{3} us \|     do_filp_open\(int dfd, struct filename \*pathname, const struct open_flags \*op\);$/m);
      expect(r.text).toMatch(/^ +\d+\.\d{3} us \|   } \/\* do_sys_openat2 \*\/$/m);
      expect(r.text).toMatch(/^ +\| {3}do_sys_openat2\(int dfd, .*filename, struct open_how \*how\) \{$/m);
      expect(r.stderr).toMatch(/ftrace engine, .*top-level tracer/);
      expect(r.svg).toMatch(/^<svg xmlns/);
      expect(r.svg).toMatch(/<title>do_filp_open: 1 call\(s\), \d+\.\d{3} us in all/);
      const { before, after } = r as unknown as { before: Record<string, unknown>; after: Record<string, unknown> };
      expect(after).toEqual(before);
      expect(after).toMatchObject({ currentTracer: 'nop', instances: [], lock: false });
    });

    it('bpf engine: the same depth-1 callees as ftrace (less those fentry cannot take, named), typed arguments and return values; no link left', () => {
      const ftrace = catOpen(check(id, 'ftrace').calls as Call[])!;
      const r = check(id, 'bpf');
      if (NO_TRAMPOLINES.has(id)) {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/LBC_ERR_GRAPH_UNSUPPORTED: .*--engine bpf needs BPF trampolines for fentry\/fexit .*; --engine ftrace works here/);
        expect(r.linksAfter).toBe(r.linksBefore);
        return;
      }
      expect(r.code, r.stderr as string).toBe(1); // cat's status: one of its files is missing
      expect(r.stderr).toContain('2 call(s) of do_sys_openat2');
      const calls = r.calls as Call[];
      const ours = catOpen(calls);
      expect(ours, `no successful open by cat in ${JSON.stringify(calls).slice(0, 2000)}`).toBeDefined();
      const leftOut = (r.stderr as string).split('\n').filter((l) => l.includes('left out')).join('\n');
      for (const f of depthOne(ftrace)) if (!depthOne(ours!).includes(f)) expect(leftOut, `${f} neither traced nor named as left out`).toContain(f);
      for (const f of depthOne(ours!)) expect(depthOne(ftrace)).toContain(f);
      expect(depthOne(ours!)).toEqual(expect.arrayContaining(['getname', 'do_filp_open']));
      expect(ours!.root.args).toEqual(expect.arrayContaining(['dfd=-100']));
      expect(Number(ours!.root.ret)).toBeGreaterThanOrEqual(3);
      const missing = calls.find((c) => c.comm.startsWith('cat') && c.root.ret === '-2');
      expect(missing, 'the open of a missing file returns -ENOENT').toBeDefined();
      expect(r.linksAfter).toBe(r.linksBefore);
    });

    it('--include keeps the paths to matching callees, --exclude drops callees with what they call (both engines)', () => {
      const r = check(id, 'filters');
      const inc = catOpen(r.include as Call[])!;
      expect(inc).toBeDefined();
      const leaves = everyNode(inc.root).filter((n) => n.children.length === 0 && n.depth > 0);
      expect(leaves.length).toBeGreaterThan(0);
      for (const leaf of leaves) expect(leaf.func).toMatch(/^path_/);
      expect(named(named(inc.root, 'do_filp_open')!, 'path_openat')).toBeDefined();
      for (const c of r.exclude as Call[]) {
        expect(everyNode(c.root).map((n) => n.func).filter((f) => /^getname/.test(f) || f === 'do_filp_open')).toEqual([]);
      }
      const exc = (r.exclude as Call[]).find((c) => c.comm.startsWith('cat'))!;
      expect(depthOne(exc).length).toBeGreaterThan(0);
      if (NO_TRAMPOLINES.has(id)) return;
      expect(r.bpfIncludeCode).toBe(0);
      const bpfCat = (r.bpfInclude as Call[]).filter((c) => c.comm.startsWith('cat'));
      expect(bpfCat.length).toBeGreaterThan(0);
      for (const c of bpfCat) expect(depthOne(c)).toEqual(['do_filp_open']);
    });

    it('a run killed with SIGKILL holds the top-level tracer; the next run puts it back first and leaves nothing', () => {
      const r = check(id, 'crash') as unknown as Record<string, Record<string, unknown>>;
      expect(r.during).toMatchObject({ currentTracer: 'function_graph', setGraphFunction: 'do_sys_openat2', lock: true });
      expect(r.leftBehind).toMatchObject({ currentTracer: 'function_graph', lock: true });
      expect(r.next!.stderr).toContain('cleaned up after 1 earlier run');
      expect(r.after).toMatchObject({ currentTracer: 'nop', setGraphFunction: '#### all functions enabled ####', instances: [], lock: false });
    });
  });
});
