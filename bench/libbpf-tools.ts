/**
 * libbpf-tools on the lab's kernels (issue 16's goal: every tool compiles for every lab kernel and
 * loads there at least as often as the objects compiled against a recent header). Each tool of a
 * libbpf-tools checkout is compiled by the farm for each x86_64 lab kernel three ways: as the farm
 * chooses ('auto'), against the kernel's own header ('kernel': what the farm did before), against
 * the arch's newest header ('core'); each distinct object is then loaded, not attached, in a guest of
 * its kernel through the client's addon (libbpf's bpf_object__load, as `bpftool prog loadall` does).
 * Reports, per kernel and way: compiled, loaded; and how many compiles and distinct objects 'auto'
 * made for all kernels together. Nothing of libbpf-tools is kept or committed.
 * Run: LBC_LIBBPF_TOOLS=/path/to/bcc/libbpf-tools node --import tsx bench/libbpf-tools.ts
 * (LBC_LAB_KERNELS=id,id narrows the kernels; LBC_BENCH_VERBOSE=1 lists each tool's outcome).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLbcError, type CompileResult, type HeaderRequest } from '@lbc/contract';
import { GuestRoot, GUEST_MARKER, baseGuestImage, bootGuest, labKernelSpecs, mapBounded, requireLabKernels, type LabKernel } from '@lbc/core/lab';
import { collectLocalIncludes } from '../client/src/source/local-includes.ts';
import { btfSha256Of } from '../client/src/target/index.ts';
import { ServiceClient } from '../client/src/transport/service-client.ts';
import { addGuestClient } from '../test/lab/guest-client.ts';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { libbpfToolsCorpus } from './fixtures/libbpf-tools-corpus.ts';
import { report } from './stats.ts';

const WAYS: HeaderRequest[] = ['auto', 'kernel', 'core'];
const verbose = process.env.LBC_BENCH_VERBOSE === '1';

interface Outcome {
  tool: string;
  kernel: string;
  way: HeaderRequest;
  result?: CompileResult;
  error?: string;
  object?: Buffer;
}

const GUEST_LOADER = `
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const native = createRequire(import.meta.url)('/lab/client/prebuilds/linux-x64/lbc_native.napi.glibc.node');
for (const file of readdirSync('/lab/objs')) {
  const [sha, tool] = file.replace(/\\.o$/, '').split('.');
  let ok = false, error;
  try {
    const obj = native.openObject(readFileSync('/lab/objs/' + file), tool);
    try { obj.load(); ok = true; } finally { obj.close(); }
  } catch (err) {
    error = String(err?.message ?? err).split('\\n').slice(0, 2).join(' | ').slice(0, 300);
  }
  process.stdout.write('${GUEST_MARKER.record} ' + JSON.stringify({ check: sha, ok, error }) + '\\n');
}
`;

async function main() {
  const corpus = libbpfToolsCorpus('bench/libbpf-tools.ts');
  if (!corpus) return;
  const { dir: toolsDir, tools } = corpus;
  const x86 = labKernelSpecs().filter((s) => s.arch === 'x86_64').map((s) => s.id);
  const kernels = requireLabKernels(process.env.LBC_LAB_KERNELS?.split(',') ?? x86);
  const scratch = mkdtempSync(join(tmpdir(), 'lbc-bench-tools-'));
  const redis = await startPrivateRedis();
  const service = await startService({ redisUrl: redis.url });
  const client = new ServiceClient({ server: service.url });
  try {
    for (const k of kernels) await client.uploadKernel(btfSha256Of(k.btfPath), readFileSync(k.btfPath), { release: k.release, arch: k.arch, distro: 'debian' });
    const started = performance.now();
    const jobs = tools.flatMap((tool) => kernels.flatMap((kernel) => WAYS.map((way) => ({ tool, kernel, way }))));
    const outcomes = await mapBounded(jobs, 2, async ({ tool, kernel, way }): Promise<Outcome> => {
      const source = readFileSync(join(toolsDir, `${tool}.bpf.c`), 'utf8');
      const includes = collectLocalIncludes(source, [toolsDir, join(toolsDir, 'x86')]);
      const target = { release: kernel.release, arch: kernel.arch, btfSha256: btfSha256Of(kernel.btfPath) };
      try {
        const result = await client.compile({ name: tool, source, includes, target, ...(way === 'auto' ? {} : { header: way }) });
        const object = await client.fetchVerified(result.artifact.url, result.artifact.sha256, 'object');
        return { tool, kernel: kernel.id, way, result, object };
      } catch (err) {
        if (!isLbcError(err)) throw err;
        return { tool, kernel: kernel.id, way, error: `${err.code}: ${err.message.split('\n')[0]}` };
      }
    });
    const compileS = (performance.now() - started) / 1000;

    const loads = new Map<string, Map<string, { ok: boolean; error?: string }>>();
    await mapBounded(kernels, 2, async (kernel) => {
      const root = new GuestRoot();
      await addGuestClient(root, 'x86_64');
      const seen = new Set<string>();
      for (const o of outcomes) {
        if (o.kernel !== kernel.id || !o.object || seen.has(o.result!.artifact.sha256)) continue;
        seen.add(o.result!.artifact.sha256);
        root.addText(`/lab/objs/${o.result!.artifact.sha256.slice(0, 16)}.${o.tool}.o`, o.object);
      }
      root.addText('/lab/load.mjs', GUEST_LOADER, 0o644);
      root.addText('/lab/run', '#!/bin/sh\nexec node /lab/load.mjs\n', 0o755);
      const payload = join(scratch, `${kernel.id}.cpio`);
      root.writeCpio(payload);
      const run = await bootGuest({ kernel, initrds: [baseGuestImage(), payload], timeoutMs: 900_000 });
      const byObject = new Map<string, { ok: boolean; error?: string }>();
      for (const r of run.records as Array<{ check: string; ok: boolean; error?: string }>) byObject.set(r.check, r);
      loads.set(kernel.id, byObject);
    });

    const loadOf = (o: Outcome) => (o.result ? loads.get(o.kernel)?.get(o.result.artifact.sha256.slice(0, 16)) : undefined);
    const rows: [string, string][] = [];
    for (const kernel of kernels) {
      const cells = WAYS.map((way) => {
        const mine = outcomes.filter((o) => o.kernel === kernel.id && o.way === way);
        return `${way}: compiled ${mine.filter((o) => o.result).length}/${tools.length}, loaded ${mine.filter((o) => loadOf(o)?.ok).length}`;
      });
      rows.push([`${kernel.id} (${kernel.release})`, cells.join('; ')]);
    }
    const auto = outcomes.filter((o) => o.way === 'auto' && o.result);
    const perKernelTools = new Set(auto.filter((o) => o.result!.header.mode === 'kernel').map((o) => o.tool));
    rows.push(['auto: distinct objects', `${new Set(auto.map((o) => o.result!.artifact.sha256)).size} for ${auto.length} compiled (tool, kernel) pairs; ${perKernelTools.size} tools per kernel: ${[...perKernelTools].join(', ') || 'none'}`]);
    const worse = outcomes.filter((o) => o.way === 'auto' && !loadOf(o)?.ok && outcomes.some((c) => c.way === 'core' && c.tool === o.tool && c.kernel === o.kernel && loadOf(c)?.ok));
    rows.push(['auto loads where core does not', `${worse.length}${worse.length ? `: ${worse.map((o) => `${o.tool}@${o.kernel}`).join(', ')}` : ''}`]);
    rows.push(['compile phase (all ways, 2 at once)', `${compileS.toFixed(1)} s`]);
    report(`libbpf-tools (${tools.length} tools) compiled by the farm and loaded in lab guests`, rows);
    if (verbose) {
      for (const o of outcomes) {
        const load = loadOf(o);
        console.log(`${o.tool.padEnd(16)} ${o.kernel.padEnd(14)} ${o.way.padEnd(6)} ${o.result ? `${o.result.header.mode}${o.result.header.reason ? ` (${o.result.header.reason.slice(0, 90)})` : ''} load=${load?.ok ?? '-'}${load?.error ? ` ${load.error.slice(0, 160)}` : ''}` : o.error!.slice(0, 200)}`);
      }
    }
  } finally {
    await client.close();
    await service.stop();
    await redis.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
