/**
 * The slow tier for the catalog and minimized BTF (LBC_SLOW=1; not part of the default run):
 * Debian's real linux-image-6.1.0-*-cloud-amd64 is ingested, its catalog is checked against
 * bpftool's reading of the ingested BTF, and a CO-RE program compiled for it comes with a
 * minimized BTF that libbpf accepts on this (6.18) machine: the program loads and attaches.
 *   LBC_SLOW=1 npx vitest run services/api/test/catalog-slow.test.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FuncPrototype, IngestStatus, StructLayout } from '@lbc/contract';
import { Lbc } from 'lbc-client';
import { bpftoolTypes } from '@lbc/test-support/bpftool-btf';
import { startIngestApp, uploadKernelPackage, type IngestApp } from '@lbc/test-support/ingest-app';
import { downloadDebianCloudKernel } from '@lbc/test-support/debian-kernel';
import { slowTier } from '@lbc/test-support/slow-tier';

const SLOW = slowTier('catalog-slow.test.ts', "catalogs Debian's real linux-image-6.1.0-*-cloud-amd64 and minimizes its BTF");

const CORE_PROGRAM = `#include "lbc.h"
struct event { u32 tgid; char comm[16]; };
LBC_RINGBUF(events, struct event, 1 << 12);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->tgid = BPF_CORE_READ(task, real_parent, tgid);
  BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
  bpf_ringbuf_submit(e, 0);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

describe.skipIf(!SLOW)("slow tier: catalog and minimized BTF of Debian's real kernel (LBC_SLOW=1)", () => {
  let running: IngestApp;
  let server: string;
  let kernel: { btfSha256: string; release: string };
  let btfBytes: Buffer;
  const dir = mkdtempSync(join(tmpdir(), 'lbc-catalog-slow-'));

  beforeAll(async () => {
    const pkg = downloadDebianCloudKernel(dir);
    running = await startIngestApp({}, { compile: true });
    server = await running.app.listen({ host: '127.0.0.1', port: 0 });
    const res = await uploadKernelPackage(running.app, pkg.file, 300_000);
    expect(res.statusCode, res.body).toBe(201);
    kernel = (res.json() as IngestStatus).kernel!;
    btfBytes = running.h.registry.readBtf(kernel.btfSha256)!;
  }, 600_000);
  afterAll(async () => {
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the ingested kernel has a catalog: task_struct matches bpftool, prototypes are there', async () => {
    const btfFile = join(dir, 'debian.btf');
    writeFileSync(btfFile, btfBytes);
    const types = bpftoolTypes(btfFile);
    const ref = types.find((t) => t.kind === 'STRUCT' && t.name === 'task_struct')!;
    const layout = (await running.app.inject({ url: `/v1/kernels/${kernel.release}/structs/task_struct` })).json() as StructLayout;
    expect(layout.size).toBe(ref.size);
    const top = layout.members.filter((m) => m.depth === 0);
    expect(top.map((m) => [m.name || '(anon)', m.bitOffset, m.bitSize])).toEqual(ref.members!.map((m) => [m.name, m.bits_offset, m.bitfield_size ?? 0]));
    const f = (await running.app.inject({ url: `/v1/kernels/${kernel.btfSha256.slice(0, 12)}/funcs/do_filp_open` })).json() as FuncPrototype;
    expect(f.returns).toBe('struct file *');
  }, 600_000);

  it('a CO-RE program for it loads here with its minimized BTF (< 1% of the kernel BTF)', async () => {
    const cacheDir = join(dir, 'client-cache');
    // No btfSha256: a kernel without its own BTF, as far as the client knows.
    const lbc = await new Lbc('core', CORE_PROGRAM, { server, cacheDir, target: { release: kernel.release, arch: 'x86_64' } }).ready;
    lbc.close();
    const [file] = readdirSync(join(cacheDir, 'btf'));
    const min = readFileSync(join(cacheDir, 'btf', file!));
    process.stderr.write(`minimized BTF for ${kernel.release}: ${min.length} bytes of ${btfBytes.length} (${((min.length / btfBytes.length) * 100).toFixed(4)}%)\n`);
    expect(min.length / btfBytes.length).toBeLessThan(0.01);
  }, 600_000);
});
