/**
 * lbc verify end to end: the real launcher (API, compile worker, verify worker), real Redis and
 * Docker, lab kernels made bootable by ingesting their real Debian packages, guests booted under
 * QEMU in the sandbox. Two x86_64 kernels and the arm64 one (compiled for aarch64 by the farm):
 * a verdict per kernel with its programs loaded and attached and the workload's events; the same
 * request again answered from the verdict cache; a program the verifier refuses (status failed,
 * the CLI's exit status 1 and the log's tail); a kernel without a boot image (the stable error);
 * another tenant's job (not there for them); the CLI's table and --json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Of } from '@lbc/core';
import type { ErrorBody, KernelVerdict, VerifyAccepted, VerifyJobStatus, VerifyResult } from '@lbc/contract';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { runCli } from '@lbc/test-support/run-cli';
import { startVerifyFarm, type VerifyFarm } from '@lbc/test-support/verify-farm';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'verify');
const LAB = ['bookworm-6.1', 'trixie-6.12', 'bookworm-6.1-arm64'];
const source = (file: string) => readFileSync(join(FIXTURES, file), 'utf8');

let farm: VerifyFarm;
const releases = () => LAB.map((id) => farm.kernels[id]!.release);

beforeAll(async () => {
  farm = await startVerifyFarm(LAB);
}, 600_000);
afterAll(async () => farm?.stop());

async function api(path: string, token: string, body?: object): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${farm.service.url}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json() };
}

async function untilDone(url: string, token: string): Promise<VerifyJobStatus> {
  const deadline = Date.now() + 480_000;
  for (;;) {
    const { json } = await api(url, token);
    const status = json as VerifyJobStatus;
    if (status.state === 'completed' || status.state === 'failed' || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const workload = { command: ['cat', '/proc/version'], repeat: 5 };

describe('lbc verify on real kernels', () => {
  let first: VerifyResult;
  let jobUrl: string;

  it('POST /v1/verify on two x86_64 kernels and the arm64 one: each verdict has its programs loaded and attached', async () => {
    const { status, json } = await api('/v1/verify', farm.tokens.alice, { name: 'opens', source: source('opens.bpf.c'), kernels: releases(), workload, waitMs: 0 });
    expect(status, JSON.stringify(json)).toBe(202);
    jobUrl = (json as VerifyAccepted).url;
    const done = await untilDone(jobUrl, farm.tokens.alice);
    expect(done.state, JSON.stringify(done)).toBe('completed');
    expect(done.progress).toMatchObject({ stage: 'done', done: 3, total: 3, percent: 100 });
    first = done.result!;
    expect(first.ok, JSON.stringify(first, null, 1)).toBe(true);
    expect(first.labVersion).toBeTruthy();
    expect(first.verdicts.map((v) => [v.kernel.release, v.kernel.arch])).toEqual(LAB.map((id) => [farm.kernels[id]!.release, farm.kernels[id]!.arch]));
    for (const v of first.verdicts) {
      expect(v).toMatchObject({ status: 'passed', cached: false });
      expect(v.objectSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(v.bootMs).toBeGreaterThan(0);
      const byName = Object.fromEntries(v.programs.map((p) => [p.name, p]));
      for (const name of ['on_open', 'on_exec']) expect(byName[name], `${v.kernel.release} ${name}`).toMatchObject({ loaded: true, attached: true });
      expect(byName.on_open!.verifiedInstructions ?? byName.on_open!.instructions).toBeGreaterThan(0);
      // cat opened files: the kprobe's ring buffer saw them.
      expect(byName.on_open!.events, `${v.kernel.release}: ${JSON.stringify(byName.on_open)}`).toBeGreaterThan(0);
    }
    // The farm compiled for each arch: the arm64 object is another object than the x86_64 ones.
    const arm = first.verdicts.find((v) => v.kernel.arch === 'aarch64')!;
    expect(first.verdicts.filter((v) => v.kernel.arch === 'x86_64').every((v) => v.objectSha256 !== arm.objectSha256)).toBe(true);
  }, 600_000);

  it('the compiles it made are in the compile cache: lbc compile for the same kernel answers cached with the same object', async () => {
    const x86 = first.verdicts[0]!;
    const { json } = await api('/v1/compile', farm.tokens.alice, { name: 'opens', source: source('opens.bpf.c'), target: { release: x86.kernel.release, arch: x86.kernel.arch, btfSha256: x86.kernel.btfSha256 } });
    expect(json).toMatchObject({ cached: true, artifact: { sha256: x86.objectSha256 } });
  });

  it('the same request again is answered from the verdict cache, without a job, in milliseconds', async () => {
    const began = performance.now();
    const { status, json } = await api('/v1/verify', farm.tokens.alice, { name: 'opens', source: source('opens.bpf.c'), kernels: releases(), workload });
    const ms = performance.now() - began;
    expect(status).toBe(200);
    const again = json as VerifyResult;
    expect(again.ok).toBe(true);
    expect(again.verdicts.every((v) => v.cached)).toBe(true);
    const strip = ({ cached: _c, bootMs: _b, ...rest }: KernelVerdict) => rest;
    expect(again.verdicts.map(strip)).toEqual(first.verdicts.map(strip));
    // Over HTTP on a busy 2-core machine: bench/verify.ts measures it (goal 10 ms).
    expect(ms).toBeLessThan(500);
    // Another setup is another verdict: not from the cache.
    const other = await api('/v1/verify', farm.tokens.alice, { name: 'opens', source: source('opens.bpf.c'), kernels: releases(), workload, setup: { globals: { min_pid: 1 } }, waitMs: 0 });
    expect(other.status).toBe(202);
  });

  it('another tenant cannot read the job (404, as if it did not exist); its own tenant can', async () => {
    expect((await api(jobUrl, farm.tokens.alice)).status).toBe(200);
    const theirs = await api(jobUrl, farm.tokens.bob);
    expect(theirs.status).toBe(404);
    expect((theirs.json as ErrorBody).error.code).toBe('LBC_ERR_JOB_NOT_FOUND');
  });

  it('lbc verify prints a row per kernel and exits 0 when all pass; --json prints the verdicts', async () => {
    const env = { LBC_SERVER: farm.service.url, LBC_TOKEN: farm.tokens.alice };
    const args = ['verify', join(FIXTURES, 'opens.bpf.c'), ...releases().flatMap((r) => ['--kernel', r]), '--workload', 'cat /proc/version', '--repeat', '5'];
    const table = await runCli(args, { env });
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^KERNEL\s+ARCH\s+STATUS\s+LOADED\s+ATTACHED\s+INSNS\s+EVENTS/);
    for (const id of LAB) expect(lines.find((l) => l.startsWith(farm.kernels[id]!.release))).toMatch(/passed \(cached\)\s+2\/2\s+2\/2\s+\d+\s+\d+/);
    const json = await runCli([...args, '--json'], { env });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as VerifyResult;
    expect(parsed.verdicts).toHaveLength(3);
    expect(parsed.ok).toBe(true);
  });

  it('a program the verifier refuses: status failed on every kernel, the CLI exits 1 and shows the verifier log\'s tail', async () => {
    const env = { LBC_SERVER: farm.service.url, LBC_TOKEN: farm.tokens.alice };
    const x86 = farm.kernels['bookworm-6.1']!.release;
    const arm = farm.kernels['bookworm-6.1-arm64']!.release;
    const run = await runCli(['verify', join(FIXTURES, 'rejected.bpf.c'), '--kernel', x86, '--kernel', arm], { env });
    // What a user sees (the README shows it).
    console.log(run.stdout);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`${x86.replace(/[.+]/g, '\\$&')}\\s+x86_64\\s+failed\\s+0/1\\s+0/1`));
    expect(run.stdout).toMatch(/program count_getpid \(tracepoint\/syscalls\/sys_enter_getpid\) did not load/);
    expect(run.stdout).toMatch(/verifier log \(last \d+ lines\):/);
    expect(run.stdout).toMatch(/invalid mem access 'map_value_or_null'/);
    const json = await runCli(['verify', join(FIXTURES, 'rejected.bpf.c'), '--kernel', x86, '--json'], { env });
    expect(json.code).toBe(1);
    const verdict = (JSON.parse(json.stdout) as VerifyResult).verdicts[0]!;
    expect(verdict.status).toBe('failed');
    expect(verdict.programs[0]).toMatchObject({ name: 'count_getpid', loaded: false, attached: false });
    expect(verdict.programs[0]!.verifierLog!.join('\n')).toMatch(/map_value_or_null/);
  }, 300_000);

  it('a kernel without a boot image (an uploaded BTF): LBC_ERR_KERNEL_NOT_BOOTABLE over the API and in the CLI, naming the fix', async () => {
    const btf = tinyBtf('verify_not_bootable');
    const sha = sha256Of(btf);
    const up = await fetch(`${farm.service.url}/v1/kernels/${sha}?release=6.6.0-uploaded&arch=x86_64`, { method: 'PUT', headers: { authorization: `Bearer ${farm.tokens.admin}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(btf) });
    expect(up.status).toBe(201);
    const { status, json } = await api('/v1/verify', farm.tokens.alice, { name: 'opens', source: source('opens.bpf.c'), kernels: ['6.6.0-uploaded'] });
    expect(status).toBe(422);
    expect((json as ErrorBody).error).toMatchObject({ code: 'LBC_ERR_KERNEL_NOT_BOOTABLE' });
    expect((json as ErrorBody).error.message).toMatch(/ingest its linux-image package/);
    const run = await runCli(['verify', join(FIXTURES, 'opens.bpf.c'), '--kernel', sha.slice(0, 12)], { env: { LBC_SERVER: farm.service.url, LBC_TOKEN: farm.tokens.alice } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/LBC_ERR_KERNEL_NOT_BOOTABLE: .*6\.6\.0-uploaded x86_64/);
    expect(run.stderr).toMatch(/fix: Make it bootable by ingesting its kernel image package/);
  });
});
