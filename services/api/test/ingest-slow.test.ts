/**
 * The slow tier (LBC_SLOW=1; not part of the default run): Debian's real kernel image package,
 * fetched with apt-get download, goes through POST /v1/kernels/ingest; then a CO-RE program is
 * compiled for that kernel by release; then its -dbg package (283 MB), and that package's vmlinux with
 * its .BTF hidden so the BTF comes from the DWARF through pahole. Needs the Debian archive, a few minutes.
 *   LBC_SLOW=1 npx vitest run services/api/test/ingest-slow.test.ts
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBtf, type BtfTypeOf } from '@lbc/btf';
import type { CompileResult, IngestStatus } from '@lbc/contract';
import { startIngestApp, uploadKernelPackage, type IngestApp } from '@lbc/test-support/ingest-app';
import { downloadDebianCloudKernel } from '@lbc/test-support/debian-kernel';
import { slowTier } from '@lbc/test-support/slow-tier';

const SLOW = slowTier('ingest-slow.test.ts', "ingests Debian's real linux-image-6.1.0-*-cloud-amd64 package");

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
    const res = await uploadKernelPackage(running.app, pkg.file, 300_000);
    expect(res.statusCode, res.body).toBe(201);
    const status = res.json() as IngestStatus;
    expect(status).toMatchObject({ btfSource: 'section', kernel: { release: pkg.release, arch: 'x86_64', distro: 'debian', source: 'package', bootable: true } });
    // The kept boot image is the package's bzImage as shipped (boot protocol magic "HdrS" at 0x202).
    const bzImage = (await import('node:fs')).readFileSync(running.h.registry.bootImagePath(status.kernel!.btfSha256)!);
    expect(bzImage.subarray(0x202, 0x206).toString('latin1')).toBe('HdrS');
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

  it('the -dbg package: the vmlinux\'s own .BTF (one kernel set with the image\'s); without it, pahole builds the same layouts from DWARF', async () => {
    const imageKernel = running.h.registry.list().find((k) => k.release === pkg.release)!;
    const dbg = downloadDebianCloudKernel(dir, { dbg: true, release: pkg.release });
    const started = performance.now();
    const res = await uploadKernelPackage(running.app, dbg.file, 600_000);
    expect([200, 201], res.body).toContain(res.statusCode);
    const status = res.json() as IngestStatus;
    expect(status).toMatchObject({ btfSource: 'section', kernel: { release: pkg.release, arch: 'x86_64' } });
    process.stderr.write(`ingested ${dbg.file.split('/').pop()} in ${Math.round(performance.now() - started)} ms\n`);
    // Content-addressed: the same BTF as the image package's vmlinuz, the same kernel set.
    expect(status.kernel!.btfSha256).toBe(imageKernel.btfSha256);

    // Test data prepared on the host (the Debian archive's own package): the vmlinux with .BTF renamed away.
    const unpacked = join(dir, 'dbg');
    execFileSync('sh', ['-c', `mkdir -p ${unpacked} && dpkg-deb --fsys-tarfile ${dbg.file} | tar -x -C ${unpacked} --wildcards '*/boot/vmlinux-*'`]);
    const vmlinux = join(dir, `vmlinux-${pkg.release}`);
    execFileSync('objcopy', ['--rename-section', '.BTF=.hidden_btf', join(unpacked, 'usr/lib/debug/boot', `vmlinux-${pkg.release}`), vmlinux]);
    rmSync(unpacked, { recursive: true, force: true });
    const dwarfStarted = performance.now();
    const fromDwarf = await running.h.service.submit({ kind: 'upload', body: createReadStream(vmlinux), fileName: 'vmlinux' }, { release: `${pkg.release}-dwarf`, arch: 'x86_64', distro: 'debian' }, 600_000);
    rmSync(vmlinux, { force: true });
    expect(fromDwarf.error).toBeUndefined();
    expect(fromDwarf).toMatchObject({ state: 'completed', btfSource: 'dwarf', kernel: { release: `${pkg.release}-dwarf` } });
    process.stderr.write(`BTF from DWARF (590 MB vmlinux, pahole) in ${Math.round(performance.now() - dwarfStarted)} ms\n`);

    const layout = (sha: string, name: string) => {
      const btf = parseBtf(running.h.registry.readBtf(sha)!);
      const [t] = btf.findByName(name, 'struct') as BtfTypeOf<'struct'>[];
      return { size: t?.size, members: t?.members.map((m) => [m.name, m.bitOffset, m.bitSize]) };
    };
    for (const struct of ['task_struct', 'sk_buff', 'file', 'sched_entity']) {
      expect(layout(fromDwarf.kernel!.btfSha256, struct), struct).toEqual(layout(imageKernel.btfSha256, struct));
    }
  }, 900_000);
});
