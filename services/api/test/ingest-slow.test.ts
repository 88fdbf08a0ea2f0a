/**
 * The slow tier (LBC_SLOW=1; not part of the default run): Debian's real kernel image package,
 * fetched with apt-get download, goes through POST /v1/kernels/ingest; then a CO-RE program is
 * compiled for that kernel by release. Needs the Debian archive and about a minute.
 *   LBC_SLOW=1 npx vitest run services/api/test/ingest-slow.test.ts
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBtf, type BtfTypeOf } from '@lbc/btf';
import type { CompileResult, IngestStatus } from '@lbc/contract';
import { startIngestApp, type IngestApp } from './ingest-app.ts';
import { downloadDebianCloudKernel } from './debian-kernel.ts';

const SLOW = process.env.LBC_SLOW === '1';
if (!SLOW) process.stderr.write('ingest-slow.test.ts: slow tier skipped; LBC_SLOW=1 ingests Debian\'s real linux-image-6.1.0-*-cloud-amd64 package\n');

const CORE_PROGRAM = `#include "lbc.h"
#include <bpf/bpf_core_read.h>
struct event { u32 tgid; char comm[16]; };
LBC_RINGBUF(events, struct event, 1 << 12);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->tgid = BPF_CORE_READ(task, tgid);
  BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
  bpf_ringbuf_submit(e, 0);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

describe.skipIf(!SLOW)('slow tier: Debian\'s real kernel image package (LBC_SLOW=1)', () => {
  let running: IngestApp;
  const dir = mkdtempSync(join(tmpdir(), 'lbc-ingest-slow-'));
  let pkg: { file: string; release: string };

  beforeAll(async () => {
    pkg = downloadDebianCloudKernel(dir);
    running = await startIngestApp({}, { compile: true });
  }, 600_000);
  afterAll(async () => {
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests linux-image-6.1.0-*-cloud-amd64 (vmlinuz → .BTF) and compiles a CO-RE program for it', async () => {
    const started = performance.now();
    const res = await running.app.inject({
      method: 'POST',
      url: '/v1/kernels/ingest',
      query: { name: pkg.file.split('/').pop()!, waitMs: '300000' },
      headers: { 'content-type': 'application/octet-stream' },
      payload: createReadStream(pkg.file),
    });
    expect(res.statusCode, res.body).toBe(201);
    const status = res.json() as IngestStatus;
    expect(status).toMatchObject({ btfSource: 'section', kernel: { release: pkg.release, arch: 'x86_64', distro: 'debian', source: 'package' } });
    process.stderr.write(`ingested ${pkg.release} in ${Math.round(performance.now() - started)} ms\n`);

    const btf = parseBtf(running.h.registry.readBtf(status.kernel!.btfSha256)!);
    const [task] = btf.findByName('task_struct', 'struct') as BtfTypeOf<'struct'>[];
    expect(task?.members.map((m) => m.name)).toEqual(expect.arrayContaining(['comm', 'tgid', 'pid']));

    const compile = await running.app.inject({
      method: 'POST',
      url: '/v1/compile',
      payload: { name: 'core', source: CORE_PROGRAM, target: { release: pkg.release, arch: 'x86_64', distro: 'debian' }, waitMs: 180_000 },
    });
    expect(compile.statusCode, compile.body).toBe(200);
    const result = compile.json() as CompileResult;
    expect(result.kernel).toMatchObject({ btfSha256: status.kernel!.btfSha256 });
    const object = (await running.app.inject({ method: 'GET', url: `/v1/artifacts/${result.artifact.sha256}` })).rawPayload;
    const objectFile = join(dir, 'core.bpf.o');
    (await import('node:fs')).writeFileSync(objectFile, object);
    // CO-RE: the accesses to task_struct are relocations in .BTF.ext, resolved against the running kernel at load.
    const sections = execFileSync('readelf', ['-S', '-W', objectFile], { encoding: 'utf8' });
    expect(sections).toMatch(/\.BTF\.ext/);
    const relocs = execFileSync('bpftool', ['btf', 'dump', 'file', objectFile], { encoding: 'utf8' });
    expect(relocs).toMatch(/STRUCT 'task_struct'/);
  }, 600_000);
});
