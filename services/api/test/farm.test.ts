/**
 * The farm end to end: API (inject) → BullMQ on a real Redis → a real worker compiling in the real
 * compile container → artifact cache → download.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdFor, type CompileAccepted, type CompileResult, type ErrorBody, type JobStatus } from '@lbc/contract';
import { SharedArtifacts, sha256Of } from '@lbc/core';
import { COMPILES_COUNTER } from '@lbc/worker';
import { startFarm, type Farm } from '@lbc/test-support/api-farm';

let farm: Farm;
beforeAll(async () => {
  // The suite reads /metrics without a token (LBC_METRICS_ACCESS=tenant; the default needs an admin).
  farm = await startFarm({ config: { metricsAccess: 'tenant' } });
});
afterAll(async () => {
  await farm?.close();
});

const TRACE = (tag: string) => `#include "lbc.h"
struct event { u32 pid; char comm[16]; };
LBC_HASH(counts, u32, u64, 64);
LBC_PERF_OUTPUT(e_out, struct event, 0);
LBC_RINGBUF(events, struct event, 1 << 12);
LBC_STACK(stacks, 32);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  u64 one = 1, *v = bpf_map_lookup_elem(&counts, &pid);
  if (v) __sync_fetch_and_add(v, 1); else bpf_map_update_elem(&counts, &pid, &one, BPF_ANY);
  struct event e = { .pid = pid };
  bpf_get_current_comm(e.comm, sizeof(e.comm));
  bpf_perf_event_output(ctx, &e_out, BPF_F_CURRENT_CPU, &e, sizeof(e));
  bpf_get_stackid(ctx, &stacks, 0);
  return 0; /* ${tag} */
}
char LICENSE[] SEC("license") = "GPL";
`;

const compile = (source: string, extra: Record<string, unknown> = {}) =>
  farm.app.inject({ method: 'POST', url: '/v1/compile', payload: { name: 'hello', source, target: { release: farm.host.release, arch: farm.host.arch }, waitMs: 60_000, ...extra } });
const compiles = async () => Number((await farm.redisOwner.command.get(COMPILES_COUNTER)) ?? 0);

describe('compile farm end to end', () => {
  it('compiles a program through the API; the artifact downloads and its sha256 matches; the second time is a cache hit', async () => {
    const res = await compile(TRACE('first'));
    expect(res.statusCode).toBe(200);
    const body = res.json() as CompileResult;
    expect(body).toMatchObject({
      cached: false,
      kernel: { btfSha256: farm.host.btfSha256, source: 'host' },
      artifact: { url: `/v1/artifacts/${body.artifact.sha256}` },
      btfUrl: `/v1/kernels/${farm.host.btfSha256}/btf`,
    });
    const download = await farm.app.inject({ url: body.artifact.url });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(sha256Of(download.rawPayload)).toBe(body.artifact.sha256);
    expect(download.rawPayload.length).toBe(body.artifact.size);

    // The object is real: its BTF names the maps' types, and this kernel loads it.
    const work = mkdtempSync(join(tmpdir(), 'lbc-farm-obj-'));
    const pin = `/sys/fs/bpf/lbc-farm-${process.pid}`;
    try {
      const file = join(work, 'hello.bpf.o');
      writeFileSync(file, download.rawPayload);
      const btf = execFileSync('bpftool', ['btf', 'dump', 'file', file], { encoding: 'utf8' });
      for (const name of ['counts', 'e_out', 'events', 'stacks', "STRUCT 'event'"]) expect(btf).toContain(name);
      execFileSync('bpftool', ['prog', 'loadall', file, pin], { stdio: 'pipe' });
      const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show', 'pinned', join(pin, 'on_exec')], { encoding: 'utf8' })) as { type: string; name: string };
      expect(progs).toMatchObject({ type: 'tracepoint', name: 'on_exec' });
    } finally {
      rmSync(pin, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }

    const before = await compiles();
    const again = await compile(TRACE('first'));
    expect(again.json()).toMatchObject({ cached: true, cacheKey: body.cacheKey, artifact: body.artifact });
    expect(await compiles()).toBe(before);
  });

  it('a compile error is a 422 with the user file name, line and column; repeating it does not recompile', async () => {
    const source = readFileSync(new URL('../../../test/fixtures/broken.bpf.c', import.meta.url), 'utf8');
    const res = await compile(source);
    expect(res.statusCode).toBe(422);
    const err = (res.json() as ErrorBody).error;
    expect(err.code).toBe('LBC_ERR_COMPILE');
    expect(String(err.details!.diagnostics)).toMatch(/^hello\.bpf\.c:6:10: error: use of undeclared identifier 'undeclared_variable'/m);
    expect(err.message).toContain('hello.bpf.c:6:10');
    expect(JSON.stringify(err)).not.toMatch(/\/job\/|\/k\/|\/tmp\//);
    const before = await compiles();
    const again = await compile(source);
    expect(again.statusCode).toBe(422);
    expect(await compiles()).toBe(before);
  });

  it('100 identical concurrent requests compile once and all get the same artifact', async () => {
    const before = await compiles();
    const source = TRACE(`concurrent ${Date.now()}`);
    const answers = await Promise.all(Array.from({ length: 100 }, () => compile(source)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(100).fill(200));
    const shas = new Set(answers.map((a) => (a.json() as CompileResult).artifact.sha256));
    expect(shas.size).toBe(1);
    expect(await compiles()).toBe(before + 1);
    const metrics = (await farm.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/lbc_compile_duration_seconds_count [1-9]/);
    expect(metrics).toMatch(/lbc_compiles_in_flight 0/);
  });

  it('answers 202 when the compile outlasts waitMs, and the job URL gives the result', async () => {
    const res = await compile(TRACE(`slow ${Date.now()}`), { waitMs: 0 });
    expect(res.statusCode).toBe(202);
    const accepted = res.json() as CompileAccepted;
    expect(accepted.url).toBe(`/v1/jobs/${accepted.jobId}`);
    let status: JobStatus;
    const deadline = Date.now() + 60_000;
    do {
      status = (await farm.app.inject({ url: accepted.url })).json() as JobStatus;
      if (status.state !== 'completed') await new Promise((r) => setTimeout(r, 50));
    } while (status.state !== 'completed' && Date.now() < deadline);
    expect(status.state).toBe('completed');
    expect(status.progress).toMatchObject({ stage: 'done', percent: 100 });
    expect(status.result).toMatchObject({ cacheKey: accepted.cacheKey, cached: false });
    expect((await farm.app.inject({ url: status.result!.artifact.url })).statusCode).toBe(200);
    expect((await farm.app.inject({ url: `/v1/jobs/compile-${'0'.repeat(64)}` })).statusCode).toBe(404);
  });

  it('a corrupted blob on disk is detected, dropped, never served, and rebuilt on the next request', async () => {
    const source = TRACE(`corrupt ${Date.now()}`);
    const first = (await compile(source)).json() as CompileResult;
    const path = farm.blobs.pathOf(first.artifact.sha256);
    const corrupt = () => {
      const bytes = readFileSync(path);
      bytes[bytes.length - 1]! ^= 0xff;
      writeFileSync(path, bytes);
    };
    corrupt();

    // The worker's copy (fetched by hash from its node, verified) repairs this node's cache.
    const repaired = await farm.app.inject({ url: first.artifact.url });
    expect(repaired.statusCode).toBe(200);
    expect(sha256Of(repaired.rawPayload)).toBe(first.artifact.sha256);
    expect(sha256Of(readFileSync(path))).toBe(first.artifact.sha256);
    expect((await farm.app.inject({ url: '/metrics' })).body).toMatch(/lbc_cache_events_total\{event="corrupt"\} [1-9]/);

    // Without the record of which compile made it, the corrupt blob is a 404.
    corrupt();
    await new SharedArtifacts(farm.redisOwner.command, 1).forget(first.cacheKey, first.artifact.sha256);
    const download = await farm.app.inject({ url: first.artifact.url });
    expect(download.statusCode).toBe(404);

    const again = await compile(source);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ cached: false, cacheKey: first.cacheKey, artifact: first.artifact });
    const served = await farm.app.inject({ url: first.artifact.url });
    expect(served.statusCode).toBe(200);
    expect(sha256Of(served.rawPayload)).toBe(first.artifact.sha256);
    expect(sha256Of(readFileSync(path))).toBe(first.artifact.sha256);

    // Rebuilt above from the finished job Redis still holds; once that job has expired, the
    // corrupted object is compiled again.
    writeFileSync(path, 'garbage');
    await farm.producer.queue.remove(jobIdFor(first.cacheKey));
    await new SharedArtifacts(farm.redisOwner.command, 1).forget(first.cacheKey, first.artifact.sha256);
    const before = await compiles();
    const recompiled = await compile(source);
    expect(recompiled.json()).toMatchObject({ cached: false, artifact: first.artifact });
    expect(await compiles()).toBe(before + 1);
    expect(sha256Of((await farm.app.inject({ url: first.artifact.url })).rawPayload)).toBe(first.artifact.sha256);
  });
});
