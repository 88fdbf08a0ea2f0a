/**
 * The farm across hosts, played on one machine with network namespaces: Redis and API node 1 in a
 * hub namespace, API node 2 and two workers each in their own, joined by veth pairs; every process
 * has its own data directory (no shared disk) and reaches Docker through a proxy socket the test
 * can close. Shared without a shared disk: objects with their minimized BTFs, and uploaded kernel
 * packages (fetched by hash by the worker from the API node holding them), and boot images (the
 * other way: published by the worker, fetched by hash by each API node). Faults: a worker's link cut
 * mid-compile, Redis killed and restarted (AOF), the Docker engine gone and back.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { jobIdFor, type CompileAccepted, type CompileResult, type ErrorBody, type IngestStatus, type JobStatus, type KernelInfo } from '@lbc/contract';
import { BLOB_PATH_PREFIX, BLOB_TOKEN_HEADER, COMPILE_QUEUE, FARM_SECRET_KEY, INGEST_QUEUE, blobToken, fetchedPackagesDir, ingestJobId, liveWorkers, packagePath, REDIS_PREFIX, redisKey, type IngestJobData, type IngestJobResult } from '@lbc/core';
import { COMPILES_COUNTER } from '@lbc/worker';
import { NetnsLab, type NetnsLink } from '@lbc/test-support/netns';
import { DockerProxy } from '@lbc/test-support/docker-proxy';
import { removeDataDir, startApiNode, startRedisNode, startWorkerNode, type FarmProcess } from '@lbc/test-support/farm-node';
import { writeVariantBtf } from '@lbc/test-support/variant-btf';
import { FixtureBuilder } from '@lbc/test-support/ingest-fixtures';

const REDIS_PORT = 6379;
const API_PORT = 8080;

let lab: NetnsLab;
let dir: string;
let proxy: DockerProxy;
let redisNode: FarmProcess;
const procs: FarmProcess[] = [];
const links: Record<'root' | 'w1' | 'w2' | 'a2', NetnsLink> = {} as never;
let api1: string;
let api2: string;
let api2Proc: FarmProcess;
let redis: Redis;
let queue: Queue;
let target: { release: string; arch: string };
const workers: Record<string, { proc: FarmProcess; link: NetnsLink }> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbc-multihost-'));
  lab = new NetnsLab();
  const nsW1 = lab.addNamespace('w1');
  const nsW2 = lab.addNamespace('w2');
  const nsA2 = lab.addNamespace('a2');
  links.root = lab.link(undefined);
  links.w1 = lab.link(nsW1);
  links.w2 = lab.link(nsW2);
  links.a2 = lab.link(nsA2);
  proxy = new DockerProxy(join(dir, 'docker.sock'));
  await proxy.start();
  const inNs = (ns: string) => (command: string, args: string[], options: Parameters<NetnsLab['spawn']>[3]) => lab.spawn(ns, command, args, options);

  const redisDir = join(dir, 'redis');
  mkdirSync(redisDir);
  const redisAt = (link: NetnsLink) => `redis://${link.hubAddress}:${REDIS_PORT}`;
  redisNode = await startRedisNode(inNs(lab.hub), { port: REDIS_PORT, dataDir: redisDir, reachAt: redisAt(links.root) });

  api1 = `http://${links.root.hubAddress}:${API_PORT}`;
  api2 = `http://${links.a2.peerAddress}:${API_PORT}`;
  // Kernel packages are uploaded from the test's (root) namespace: not loopback to the API nodes.
  const common = { dockerHost: proxy.dockerHost, port: API_PORT, env: { LBC_INGEST_FROM: 'any' } };
  procs.push(await startApiNode(inNs(lab.hub), { ...common, name: 'api1', redisUrl: `redis://127.0.0.1:${REDIS_PORT}`, reachAt: api1 }));
  const workerEnv = { LBC_WORKER_CONCURRENCY: '1', LBC_LOCK_DURATION_MS: '3000', LBC_STALLED_INTERVAL_MS: '1000' };
  for (const [name, ns] of [['w1', nsW1], ['w2', nsW2]] as const) {
    const proc = await startWorkerNode(inNs(ns), { name, redisUrl: redisAt(links[name]), dockerHost: proxy.dockerHost, env: workerEnv });
    procs.push(proc);
    workers[String(proc.child.pid)] = { proc, link: links[name] };
  }
  // The second API node's host has no Docker engine: it learns the compile image's identity from the workers.
  api2Proc = await startApiNode(inNs(nsA2), { ...common, dockerHost: `unix://${join(dir, 'no-engine.sock')}`, name: 'api2', redisUrl: redisAt(links.a2), reachAt: api2 });
  procs.push(api2Proc);

  redis = new Redis(redisAt(links.root), { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  queue = new Queue(COMPILE_QUEUE, { connection: redis });
  queue.on('error', () => {});
  const kernels = (await (await fetch(`${api1}/v1/kernels`)).json()) as { kernels: KernelInfo[] };
  const host = kernels.kernels.find((k) => k.source === 'host')!;
  target = { release: host.release, arch: host.arch };
}, 300_000);

afterAll(async () => {
  await queue?.close().catch(() => {});
  redis?.disconnect();
  await Promise.all(procs.map((p) => p.stop(5000)));
  await redisNode?.kill();
  await proxy?.stop();
  lab?.remove();
  for (const p of procs) removeDataDir(p);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const program = (tag: string, body = '') => `#include "lbc.h"
LBC_ARRAY(hits, u64, 1);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) {
  u32 k = 0; u64 *v = bpf_map_lookup_elem(&hits, &k);
  if (v) __sync_fetch_and_add(v, 1);
  ${body}
  return 0; /* ${tag} */
}
char LICENSE[] SEC("license") = "GPL";
`;

/** A program clang needs seconds for (thousands of dependent volatile updates), to catch mid-compile. */
const slowProgram = (tag: string, groups: number) => {
  const updates = Array.from({ length: groups }, (_, g) => `R100(${g * 100})`).join(' ');
  return `#include "lbc.h"
volatile u64 sink;
#define R1(i) sink = sink * 31 + (i) * (sink ^ (i));
#define R10(i) R1(i) R1(i+1) R1(i+2) R1(i+3) R1(i+4) R1(i+5) R1(i+6) R1(i+7) R1(i+8) R1(i+9)
#define R100(i) R10(i) R10(i+10) R10(i+20) R10(i+30) R10(i+40) R10(i+50) R10(i+60) R10(i+70) R10(i+80) R10(i+90)
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) { ${updates} return 0; /* ${tag} */ }
char LICENSE[] SEC("license") = "GPL";
`;
};

async function compile(api: string, source: string, waitMs = 120_000, extra: { minBtf?: boolean } = {}): Promise<{ status: number; body: CompileResult & CompileAccepted & ErrorBody }> {
  const res = await fetch(`${api}/v1/compile`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'multihost', source, target, waitMs, ...extra }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function bytesAt(api: string, url: string): Promise<Buffer> {
  const res = await fetch(`${api}${url}`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

async function download(api: string, result: CompileResult): Promise<string> {
  return sha256Of(await bytesAt(api, result.artifact.url));
}

/** Polls a job URL until it completed (tolerating 503s while a dependency comes back). */
async function finished(api: string, jobUrl: string, timeoutMs = 120_000): Promise<JobStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: JobStatus | undefined;
  while (Date.now() < deadline) {
    const res = await fetch(`${api}${jobUrl}`).catch(() => undefined);
    if (res?.status === 200) {
      last = (await res.json()) as JobStatus;
      if (last.state === 'completed' || last.state === 'failed') return last;
    }
    await sleep(200);
  }
  throw new Error(`job ${jobUrl} not finished within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

const compiles = async () => Number((await redis.get(COMPILES_COUNTER)) ?? 0);
const pidOf = (processedBy: string | undefined) => processedBy?.split(':')[1];

describe('the farm across hosts (network namespaces)', () => {
  it('two API nodes and two workers share one Redis: a node serves objects the other compiled, without recompiling', async () => {
    const live = await liveWorkers(redis);
    expect(live.map((w) => String(w.pid)).sort()).toEqual(Object.keys(workers).sort());
    expect(live.every((w) => w.dockerOk)).toBe(true);

    const before = await compiles();
    const first = await compile(api1, program('shared'));
    expect(first.status).toBe(200);
    expect(first.body.cached).toBe(false);
    expect(await download(api1, first.body)).toBe(first.body.artifact.sha256);
    // Node 2 never saw this job's result: it fills its own cache by hash from a host that holds the object.
    expect(await download(api2, first.body)).toBe(first.body.artifact.sha256);
    const second = await compile(api2, program('shared'));
    expect(second).toMatchObject({ status: 200, body: { cached: true, cacheKey: first.body.cacheKey, artifact: first.body.artifact } });
    expect(await compiles()).toBe(before + 1);

    // Redis holds where the object is, never its bytes: the worker host that compiled it is on record.
    const holders = await redis.smembers(redisKey.blobLocation(first.body.artifact.sha256));
    expect(holders.some((url) => url.includes(`//${links.w1.peerAddress}:`) || url.includes(`//${links.w2.peerAddress}:`)), holders.join(' ')).toBe(true);
    for (const key of await redis.keys(`${REDIS_PREFIX}*`)) expect(Number(await redis.memory('USAGE', key)), key).toBeLessThan(16 * 1024);
    expect(await redis.keys(redisKey.legacyKernelBtf('*'))).toEqual([]);
  });

  it("a minimized BTF travels with its object: node 2 serves node 1's, without a compile", async () => {
    const before = await compiles();
    const source = program(`min btf ${Date.now()}`);
    const first = await compile(api1, source, 120_000, { minBtf: true });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.cached).toBe(false);
    const minBtf = first.body.minBtf!;
    expect(minBtf.size).toBeGreaterThan(0);
    const fromNode1 = await bytesAt(api1, minBtf.url);
    expect(sha256Of(fromNode1)).toBe(minBtf.sha256);
    expect(fromNode1.readUInt16LE(0)).toBe(0xeb9f);
    // As if it had been a while: the finished job is gone, only node 1's record in Redis (and the blobs on the hosts) remain.
    await (await queue.getJob(jobIdFor(first.body.cacheKey)))!.remove();

    const second = await compile(api2, source, 120_000, { minBtf: true });
    expect(second).toMatchObject({ status: 200, body: { cached: true, cacheKey: first.body.cacheKey, artifact: first.body.artifact, minBtf } });
    const fromNode2 = await bytesAt(api2, second.body.minBtf!.url);
    expect(fromNode2.equals(fromNode1)).toBe(true);
    expect(await download(api2, second.body)).toBe(first.body.artifact.sha256);
    // Now in node 2's own cache: asked again, the same answer.
    expect(await compile(api2, source, 120_000, { minBtf: true })).toMatchObject({ status: 200, body: { cached: true, minBtf } });
    expect(await compiles()).toBe(before + 1);
    expect(await queue.getJob(jobIdFor(first.body.cacheKey))).toBeUndefined();
  });

  it('a kernel package uploaded to node 2 is ingested by a worker with its own disk (fetched by hash from node 2), and both nodes register the kernel', async () => {
    const file = writeVariantBtf(dir);
    const bytes = readFileSync(file);
    const release = '6.6.0-multihost';
    const query = new URLSearchParams({ name: 'variant.btf', release, arch: target.arch, distro: 'debian', waitMs: '120000' });
    const res = await fetch(`${api2}/v1/kernels/ingest?${query}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    const status = (await res.json()) as IngestStatus;
    expect(res.status, JSON.stringify(status)).toBe(201);
    expect(status.packageSha256).toBe(sha256Of(bytes));
    expect(status.kernel).toMatchObject({ release, arch: target.arch, distro: 'debian', source: 'package', btfSha256: sha256Of(bytes) });

    // The job carries the package's hash, name and size; the bytes were found by hash (node 2 on
    // record as their holder). No node address: a boot image travels by hash too.
    const ingestQueue = new Queue<IngestJobData>(INGEST_QUEUE, { connection: redis });
    try {
      const data = (await ingestQueue.getJob(status.id))!.data;
      expect(data).toMatchObject({ packageSha256: status.packageSha256, fileName: 'variant.btf', size: bytes.length });
      expect(data).not.toHaveProperty('origin');
      expect(JSON.stringify(data).length).toBeLessThan(1024);
    } finally {
      await ingestQueue.close();
    }
    // Raw BTF is its own kernel's BTF: node 2 keeps that blob and is on record for it, with a bounded life.
    const holders = await redis.smembers(redisKey.blobLocation(status.packageSha256));
    expect(holders.some((url) => url.includes(`//${links.a2.peerAddress}:`)), holders.join(' ')).toBe(true);
    expect(await redis.ttl(redisKey.blobLocation(status.packageSha256))).toBeGreaterThan(0);
    // A worker fetched it into its own data directory and removed its copy; node 2 removed the upload.
    const fetchedDirs = Object.values(workers).map((w) => fetchedPackagesDir(w.proc.dataDir));
    expect(fetchedDirs.some((d) => existsSync(d))).toBe(true);
    for (const d of fetchedDirs) expect(existsSync(d) ? readdirSync(d) : []).toEqual([]);
    for (const w of Object.values(workers)) expect(existsSync(packagePath(w.proc.dataDir, status.packageSha256))).toBe(false);
    expect(existsSync(packagePath(api2Proc.dataDir, status.packageSha256))).toBe(false);

    // Both API nodes list it, and node 1 answers from its catalog.
    for (const api of [api2, api1]) {
      let kernels: KernelInfo[] = [];
      for (let i = 0; i < 100; i++) {
        kernels = ((await (await fetch(`${api}/v1/kernels?release=${release}`)).json()) as { kernels: KernelInfo[] }).kernels;
        if (kernels.some((k) => k.btfSha256 === status.kernel!.btfSha256)) break;
        await sleep(100);
      }
      expect(kernels.map((k) => k.btfSha256), api).toContain(status.kernel!.btfSha256);
    }
    const layout = await fetch(`${api1}/v1/kernels/${status.kernel!.btfSha256}/structs/task_struct`);
    expect(layout.status).toBe(200);

    // Node 2's blobs open only to the farm's credential for that very hash; a package it no longer holds is a 404.
    const sha = status.packageSha256;
    const unsigned = await fetch(`${api2}${BLOB_PATH_PREFIX}${sha}`);
    expect(unsigned.status).toBe(403);
    const secret = (await redis.get(FARM_SECRET_KEY))!;
    const wrong = await fetch(`${api2}${BLOB_PATH_PREFIX}${sha}`, { headers: { [BLOB_TOKEN_HEADER]: blobToken(secret, 'f'.repeat(64)) } });
    expect(wrong.status).toBe(403);
    const gonePackage = createHash('sha256').update(`never uploaded ${Date.now()}`).digest('hex');
    const gone = await fetch(`${api2}${BLOB_PATH_PREFIX}${gonePackage}`, { headers: { [BLOB_TOKEN_HEADER]: blobToken(secret, gonePackage) } });
    expect(gone.status).toBe(404);
  }, 180_000);

  it('a kernel image package ingested on another host: its boot image travels by hash (the worker publishes it, each API node fetches a verified copy), bootable on both nodes', async () => {
    const fx = new FixtureBuilder(mkdtempSync(join(dir, 'boot-')));
    const image = fx.arm64Image(fx.rawBtf('multihost_boot'));
    const bytes = readFileSync(image);
    const imageSha = sha256Of(bytes);
    const release = '6.12.92+deb13-cloud-arm64';
    const deb = fx.deb({ name: `linux-image-${release}`, version: '6.12.92-1', arch: 'arm64', files: { [`/boot/vmlinuz-${release}`]: image }, compression: 'xz' });
    const query = new URLSearchParams({ name: basename(deb), waitMs: '120000' });
    const res = await fetch(`${api2}/v1/kernels/ingest?${query}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: readFileSync(deb) });
    const status = (await res.json()) as IngestStatus;
    expect(res.status, JSON.stringify(status)).toBe(201);
    expect(status.kernel).toMatchObject({ release, arch: 'aarch64', bootable: true, bootImage: { sha256: imageSha, size: bytes.length } });

    // The job result names the image by hash and size only: no bytes, no node address.
    const ingestQueue = new Queue<IngestJobData, IngestJobResult>(INGEST_QUEUE, { connection: redis });
    try {
      expect((await ingestQueue.getJob(status.id))!.returnvalue.bootImage).toEqual({ sha256: imageSha, size: bytes.length });
    } finally {
      await ingestQueue.close();
    }
    // The worker that ingested it keeps it on its own disk and is on record as a holder; so is node 2, with its own copy.
    const blobPath = (dataDir: string) => join(dataDir, 'blobs', imageSha.slice(0, 2), imageSha);
    const ingested = Object.values(workers).filter((w) => existsSync(blobPath(w.proc.dataDir)));
    expect(ingested).toHaveLength(1);
    expect(readFileSync(blobPath(ingested[0]!.proc.dataDir)).equals(bytes)).toBe(true);
    const holders = await redis.smembers(redisKey.blobLocation(imageSha));
    expect(holders.some((url) => url.includes(`//${ingested[0]!.link.peerAddress}:`)), holders.join(' ')).toBe(true);
    expect(holders.some((url) => url.includes(`//${links.a2.peerAddress}:`)), holders.join(' ')).toBe(true);
    expect(await redis.ttl(redisKey.blobLocation(imageSha))).toBeGreaterThan(0);
    expect(readFileSync(blobPath(api2Proc.dataDir)).equals(bytes)).toBe(true);

    // Node 1 (another host again) registers the kernel bootable, with a copy fetched by hash.
    let kernel: KernelInfo | undefined;
    for (let i = 0; i < 100 && !kernel?.bootable; i++) {
      kernel = ((await (await fetch(`${api1}/v1/kernels?release=${encodeURIComponent(release)}`)).json()) as { kernels: KernelInfo[] }).kernels.find((k) => k.btfSha256 === status.kernel!.btfSha256);
      if (!kernel?.bootable) await sleep(100);
    }
    expect(kernel).toMatchObject({ bootable: true, bootImage: { sha256: imageSha, size: bytes.length } });
    expect(readFileSync(blobPath(procs[0]!.dataDir)).equals(bytes)).toBe(true);
  }, 180_000);

  it('the API node holding a package unreachable: the ingestion fails, after its retry, with LBC_ERR_INGEST_PACKAGE_UNAVAILABLE naming it', async () => {
    const sha = createHash('sha256').update(`gone ${Date.now()}`).digest('hex');
    const origin = `http://${links.a2.peerAddress}:9`; // node 2's host, where nothing listens
    const ingestQueue = new Queue<IngestJobData>(INGEST_QUEUE, { connection: redis });
    // On record as the package's holder, as the node that received it would be.
    await redis.sadd(redisKey.blobLocation(sha), origin);
    try {
      await ingestQueue.add('gone.btf', { packageSha256: sha, fileName: 'gone.btf', size: 4096, hints: {}, maxUnpackedBytes: 1 << 30 }, { jobId: ingestJobId(sha), attempts: 2, backoff: { type: 'fixed', delay: 200 } });
      let status: IngestStatus | undefined;
      for (let i = 0; i < 300 && status?.state !== 'failed'; i++) {
        await sleep(100);
        status = (await (await fetch(`${api1}/v1/kernels/ingest/${ingestJobId(sha)}`)).json()) as IngestStatus;
      }
      expect(status?.error, JSON.stringify(status)).toMatchObject({ code: 'LBC_ERR_INGEST_PACKAGE_UNAVAILABLE' });
      expect(status!.error!.message).toContain(`${origin}${BLOB_PATH_PREFIX}${sha} did not answer`);
      expect((await ingestQueue.getJob(ingestJobId(sha)))?.attemptsMade).toBe(2);
    } finally {
      await ingestQueue.close();
    }
  });

  it("a worker's link cut mid-compile: the job finishes on the other worker and the waiting request gets its object", async () => {
    const source = slowProgram(`cut ${Date.now()}`, 30);
    const pending = compile(api1, source);
    let owner: string | undefined;
    let jobId: string | undefined;
    for (let i = 0; i < 600 && !owner; i++) {
      const [job] = await queue.getJobs(['active']);
      if (job?.processedBy) {
        owner = pidOf(job.processedBy);
        jobId = job.id;
      } else await sleep(25);
    }
    expect(owner && workers[owner]).toBeTruthy();
    lab.setLink(workers[owner!]!.link, false);
    try {
      const res = await pending;
      expect(res.status).toBe(200);
      expect(jobIdFor(res.body.cacheKey)).toBe(jobId);
      const job = await queue.getJob(jobId!);
      expect(pidOf(job!.processedBy)).not.toBe(owner);
      expect(await download(api2, res.body)).toBe(res.body.artifact.sha256);
    } finally {
      lab.setLink(workers[owner!]!.link, true);
    }
  }, 180_000);

  it('Redis killed and restarted: no accepted request is lost, and the farm compiles again', async () => {
    const tag = Date.now();
    const accepted: CompileAccepted[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await compile(i % 2 ? api2 : api1, program(`accepted ${tag} ${i}`), 0);
      expect(res.status).toBe(202);
      accepted.push(res.body);
    }
    const waiting = [compile(api1, program(`waiting ${tag} a`)), compile(api2, program(`waiting ${tag} b`))];
    await sleep(100);
    await redisNode.kill();
    await sleep(1500);
    const redisDir = redisNode.dataDir;
    redisNode = await startRedisNode((c, a, o) => lab.spawn(lab.hub, c, a, o), { port: REDIS_PORT, dataDir: redisDir, reachAt: `redis://${links.root.hubAddress}:${REDIS_PORT}` });

    for (const [i, job] of accepted.entries()) {
      const api = i % 2 ? api1 : api2; // ask the other node than the one that accepted it
      const status = await finished(api, job.url);
      expect(status.state).toBe('completed');
      expect(status.result!.cacheKey).toBe(job.cacheKey);
      expect(await download(api, status.result!)).toBe(status.result!.artifact.sha256);
    }
    for (const answer of await Promise.all(waiting)) {
      expect(answer.status).toBe(200);
      expect(answer.body.artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const after = await compile(api2, program(`after restart ${tag}`));
    expect(after.status).toBe(200);
    for (const api of [api1, api2]) expect((await fetch(`${api}/readyz`)).status).toBe(200);
  }, 240_000);

  it('the Docker engine gone: clear 503s while it is away, and accepted compiles finish once it is back', async () => {
    const tag = Date.now();
    // One compile is running when the engine goes: it must come back to the queue, not fail.
    const running = await compile(api1, slowProgram(`engine lost ${tag}`, 20), 0);
    expect(running.status).toBe(202);
    for (let i = 0; i < 400 && (await queue.getJobState(running.body.jobId)) !== 'active'; i++) await sleep(25);
    await sleep(300);
    await proxy.stop();
    const accepted: CompileAccepted[] = [running.body];
    let refused: { status: number; body: ErrorBody } | undefined;
    const deadline = Date.now() + 20_000;
    for (let i = 0; !refused && Date.now() < deadline; i++) {
      const res = await compile(api1, program(`no docker ${tag} ${i}`), 1000);
      if (res.status === 202) accepted.push(res.body);
      else if (res.status === 503) refused = res;
      else throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
    }
    expect(refused?.body.error, JSON.stringify(refused?.body)).toMatchObject({ code: 'LBC_ERR_SANDBOX_UNAVAILABLE' });
    expect(refused?.body.error.message).toMatch(/none can reach its Docker engine/);
    expect(refused?.body.error.hint).toMatch(/DOCKER_HOST/);
    const ready = await fetch(`${api1}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { docker: { ok: boolean } } }).checks.docker.ok).toBe(false);
    // The API node without an engine of its own stays ready; its compiles are refused the same way.
    expect((await fetch(`${api2}/readyz`)).status).toBe(200);
    expect((await compile(api2, program(`no docker ${tag} api2`), 1000)).body.error.code).toBe('LBC_ERR_SANDBOX_UNAVAILABLE');
    expect((await liveWorkers(redis)).every((w) => !w.dockerOk)).toBe(true);

    await proxy.start();
    let back = await compile(api1, program(`docker back ${tag}`));
    for (let i = 0; back.status === 503 && i < 100; i++) {
      await sleep(200);
      back = await compile(api1, program(`docker back ${tag}`));
    }
    expect(back.status).toBe(200);
    for (const job of accepted) {
      const status = await finished(api2, job.url);
      expect(status.state, JSON.stringify(status)).toBe('completed');
      expect(status.result!.cacheKey).toBe(job.cacheKey);
      expect(await download(api2, status.result!)).toBe(status.result!.artifact.sha256);
    }
    expect((await fetch(`${api1}/readyz`)).status).toBe(200);
  }, 120_000);
});
