/**
 * Compile-farm benchmarks (issue 2), all measured in one run on this machine:
 *  1. cold compile end to end (API + queue + warm container + PCH) vs bare host clang on the same
 *     source and the same full vmlinux.h — goal ≤ 1.5x; and vs host clang with the same vmlinux.h
 *     precompiled (issue 16: goal ≤ 1.2x), with the mean time clang took inside the container (the
 *     service's lbc_compile_duration_seconds) to split what is the compiler's from the rest
 *     A compile error end to end beside them (answered when clang exits, not when the engine has
 *     reported the container's exit), against bare clang with the PCH failing on the same source
 *  2. cache-hit round trip on loopback — goal p50 ≤ 5 ms
 *  3. distinct compiles per second with 2 in flight vs bare clang 2 in parallel — goal ≥ 0.8x
 * Run: node --import tsx bench/compile.ts [runs]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { fmt, median, percentile, ratio, report, sampleMs, timeMs } from './stats.ts';

const runs = Number(process.argv[2] ?? 15);
const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const targetArch = arch === 'aarch64' ? 'arm64' : 'x86';

const program = (nonce: number) => `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event { u32 pid; char comm[16]; u64 nonce; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 16); } events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->nonce = ${nonce}ULL;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** A program clang refuses: the error path's figures. */
const broken = (nonce: number) => `${program(nonce)}\nint broken_${nonce}(;\n`;

function bareClang(dir: string, nonce: number, pch = false, refused = false): Promise<void> {
  const src = join(dir, `p${nonce}.bpf.c`);
  writeFileSync(src, refused ? broken(nonce) : program(nonce));
  return new Promise((resolve, reject) => {
    const child = spawn('clang-16', ['-O2', '-g', '-target', 'bpf', `-D__TARGET_ARCH_${targetArch}`, `-I${dir}`, ...(pch ? ['-include-pch', join(dir, 'vmlinux.h.pch')] : []), '-c', src, '-o', `${src}.o`], { stdio: 'ignore' });
    child.on('exit', (code) => ((code === 0) !== refused ? resolve() : reject(new Error(`clang exited ${code}`))));
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-bench-'));
  writeFileSync(join(dir, 'vmlinux.h'), execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 1 << 30 }));
  const redis = await startPrivateRedis();
  execFileSync('clang-16', ['-O2', '-g', '-target', 'bpf', `-D__TARGET_ARCH_${targetArch}`, '-x', 'c-header', join(dir, 'vmlinux.h'), '-o', join(dir, 'vmlinux.h.pch')]);
  const service = await startService({ redisUrl: redis.url, env: { LBC_METRICS_ACCESS: 'public' } });
  /** The service's clang time so far: sum (s) and count of lbc_compile_duration_seconds. */
  const clangSeconds = async () => {
    const text = await (await request(`${service.url}/metrics`)).body.text();
    const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { sum: read('lbc_compile_duration_seconds_sum'), count: read('lbc_compile_duration_seconds_count') };
  };
  let nonce = 1;
  const post = async (source: string) => {
    const res = await request(`${service.url}/v1/compile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', source, target: { release: (await import('node:os')).release(), arch }, waitMs: 60_000 }),
    });
    return { status: res.statusCode, body: (await res.body.json()) as { cached?: boolean; error?: { code: string } } };
  };
  const compile = async (n: number) => {
    const { status, body } = await post(program(n));
    if (status !== 200) throw new Error(`compile answered ${status}: ${JSON.stringify(body)}`);
    return body;
  };
  const compileError = async (n: number) => {
    const { status, body } = await post(broken(n));
    if (status !== 422 || body.error?.code !== 'LBC_ERR_COMPILE') throw new Error(`a compile error answered ${status}: ${JSON.stringify(body)}`);
  };
  try {
    // Warm-up: builds the kernel set (vmlinux.h + PCH) and the warm containers once.
    await compile(nonce++);
    await bareClang(dir, nonce++);

    await bareClang(dir, nonce++, true);
    const bare: number[] = [];
    const barePch: number[] = [];
    const cold: number[] = [];
    const refused: number[] = [];
    const bareRefused: number[] = [];
    // The service's clang time during the successful compiles alone: read around each of them.
    const clang = { sum: 0, count: 0 };
    // Interleaved, so a change of load on the machine shifts them all alike.
    for (let i = 0; i < runs; i++) {
      bare.push((await timeMs(() => bareClang(dir, nonce++)))[0]);
      barePch.push((await timeMs(() => bareClang(dir, nonce++, true)))[0]);
      const before = await clangSeconds();
      cold.push((await timeMs(() => compile(nonce++)))[0]);
      const after = await clangSeconds();
      clang.sum += after.sum - before.sum;
      clang.count += after.count - before.count;
      bareRefused.push((await timeMs(() => bareClang(dir, nonce++, true, true)))[0]);
      refused.push((await timeMs(() => compileError(nonce++)))[0]);
    }
    const inContainer = (clang.sum / clang.count) * 1000;
    report('cold compile, end to end vs bare clang (same source, full vmlinux.h)', [
      ['bare clang-16 median', fmt(median(bare))],
      ['bare clang-16 with vmlinux.h precompiled, median', fmt(median(barePch))],
      ['lbc API+queue+container median', fmt(median(cold))],
      ["  of which the container run, clang + strip (mean, the service's metric)", fmt(inContainer)],
      ['  the rest: HTTP, queue, container I/O, storing', fmt(median(cold) - inContainer)],
      ['ratio lbc / bare (goal <= 1.5x)', ratio(median(cold), median(bare))],
      ['ratio lbc / bare with PCH (goal <= 1.2x)', ratio(median(cold), median(barePch))],
      ['a compile error: bare clang-16 with the PCH, median', fmt(median(bareRefused))],
      ['a compile error: lbc API+queue+container median (422 LBC_ERR_COMPILE)', fmt(median(refused))],
      ['ratio lbc / bare with PCH, compile error', ratio(median(refused), median(bareRefused))],
    ]);

    const hitNonce = nonce++;
    await compile(hitNonce);
    const hits = await sampleMs(runs * 10, async () => {
      const body = await compile(hitNonce);
      if (!body.cached) throw new Error('expected a cache hit');
    });
    report('cache-hit round trip on loopback', [
      ['p50 (goal <= 5 ms)', fmt(median(hits))],
      ['p99', fmt(percentile(hits, 99))],
    ]);

    const batch = runs * 2;
    const inParallel = async (fn: (n: number) => Promise<unknown>) => {
      const queue = Array.from({ length: batch }, () => nonce++);
      await Promise.all([0, 1].map(async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) await fn(n);
      }));
    };
    const [bareMs] = await timeMs(() => inParallel((n) => bareClang(dir, n)));
    const [lbcMs] = await timeMs(() => inParallel((n) => compile(n)));
    const bareRate = (batch / bareMs) * 1000;
    const lbcRate = (batch / lbcMs) * 1000;
    report(`distinct compiles per second, 2 in flight, ${batch} programs`, [
      ['bare clang-16', `${bareRate.toFixed(2)}/s`],
      ['lbc', `${lbcRate.toFixed(2)}/s`],
      ['ratio lbc / bare (goal >= 0.8x)', ratio(lbcRate, bareRate)],
    ]);
  } finally {
    await service.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
