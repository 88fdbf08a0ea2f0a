/**
 * lbc graph's cost per traced call, in a lab guest (the host kernel runs neither engine): a loop of
 * N open/close calls of one file times itself untraced, under `lbc graph do_sys_openat2 -d 2` with
 * each engine (the trees printed to a pipe that is read and dropped), and under the plain shell
 * script users write for function_graph (set_graph_function, max_graph_depth, current_tracer, cat
 * trace_pipe > /dev/null). Overhead per call = traced ns per iteration - untraced ns per iteration.
 * TCG emulation makes every figure slower than on hardware; the ratios are the point.
 * Run: node --import tsx bench/graph.ts [calls] [rounds]   (LBC_LAB_KERNELS=id picks the kernel; default bookworm-6.12)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireLabKernels } from '@lbc/core/lab';
import { Lbc } from 'lbc-client';
import { GRAPH_PROBE_NAME, GRAPH_PROBE_SOURCE } from '../client/src/graph/graph-probe-source.ts';
import { btfSha256Of } from '../client/src/target/index.ts';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { writeLabPayload } from '../test/lab/lab-payload.ts';
import { bootLabKernels, type CheckRecord } from '../test/lab/run-lab.ts';
import { median, ratio, report } from './stats.ts';

const calls = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 3);
const GUEST_SCRIPT = resolve(import.meta.dirname, 'guest/graph-bench.mjs');

async function main() {
  const kernels = requireLabKernels(process.env.LBC_LAB_KERNELS?.split(',') ?? ['bookworm-6.12']);
  const dir = mkdtempSync(join(tmpdir(), 'lbc-bench-graph-'));
  const redis = await startPrivateRedis();
  const service = await startService({ redisUrl: redis.url });
  try {
    const cacheDir = join(dir, 'cache');
    for (const kernel of kernels) {
      const target = { release: kernel.release, arch: kernel.arch, distro: 'debian', btfSha256: btfSha256Of(kernel.btfPath), btfPath: kernel.btfPath };
      (await new Lbc(GRAPH_PROBE_NAME, GRAPH_PROBE_SOURCE, { server: service.url, cacheDir, target, load: false, fallbacks: false }).ready).close();
    }
    const payload = join(dir, 'payload.cpio');
    await writeLabPayload(payload, cacheDir, [String(calls), String(rounds)], 'x86_64', { script: GUEST_SCRIPT });
    for (const run of await bootLabKernels(kernels, { x86_64: payload }, 900_000)) {
      if (run.error) throw run.error;
      const r = run.checks.get('graph-bench') as (CheckRecord & { samples: Record<string, number[]>; errors: unknown[] }) | undefined;
      if (!r?.ok) throw new Error(`${run.kernel.id}: ${JSON.stringify(r ?? run.run?.console.slice(-20))}`);
      const m = Object.fromEntries(Object.entries(r.samples).map(([k, v]) => [k, median(v)])) as Record<string, number>;
      const us = (ns: number) => `${(ns / 1000).toFixed(2)} us`;
      const over = (k: string) => m[k]! - m.untraced!;
      const rows: [string, string][] = [['untraced', `${us(m.untraced!)} per open/close (${r.samples.untraced!.map((v) => (v / 1000).toFixed(1)).join(', ')})`]];
      for (const k of ['script', 'ftrace', 'bpf']) {
        rows.push([k === 'script' ? 'ftrace shell script' : `lbc graph --engine ${k}`, `${us(m[k]!)} per call (${r.samples[k]!.map((v) => (v / 1000).toFixed(1)).join(', ')}): overhead ${us(over(k))}, ${ratio(m[k]!, m.untraced!)} of untraced, ${ratio(over(k), over('script'))} of the script's overhead`]);
      }
      report(`lbc graph do_sys_openat2 -d 2 in ${run.kernel.id} (TCG), ${calls} calls, median of ${rounds}`, rows);
    }
  } finally {
    await service.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
