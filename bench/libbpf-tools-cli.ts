/**
 * bcc's libbpf-tools through `lbc compile`, as a user compiles a checkout of them (issue 16's goals:
 * the whole corpus cold ≤ 1x bare host clang over the same files, warm ≤ 0.2x). Per tool, in one
 * round: bare host clang-16 as libbpf-tools' own Makefile runs it (its x86/vmlinux.h, no
 * precompiled header), then `lbc compile` (client/bin/lbc, the CLI's startup snapshot) against a
 * service that has never seen the tool (cold: the farm compiles it), then `lbc compile` again
 * (warm: the service's cache answers). Interleaved so a change of load shifts all three alike;
 * the corpus totals and their ratios are reported. The service's kernel set (its CO-RE header and
 * precompiled header) is made before, by a warm-up compile no tool's key shares.
 * Nothing of libbpf-tools is kept or committed.
 * Run: LBC_LIBBPF_TOOLS=/path/to/bcc/libbpf-tools node --import tsx bench/libbpf-tools-cli.ts
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { buildClient, LBC_LAUNCHER } from './fixtures/built-client.ts';
import { libbpfToolsCorpus } from './fixtures/libbpf-tools-corpus.ts';
import { ratio, report } from './stats.ts';

const targetArch = process.arch === 'arm64' ? 'arm64' : 'x86';

interface Timed {
  ms: number;
  ok: boolean;
  stderr: string;
}

/**
 * The directory holding the checkout's vmlinux.h for bare clang. In git, x86/vmlinux.h is a symlink
 * to the version's header (vmlinux_614.h); an export without symlinks leaves a file naming it.
 */
function headerDirFor(toolsDir: string, scratch: string): string {
  const archDir = join(toolsDir, targetArch);
  const header = join(archDir, 'vmlinux.h');
  if (statSync(header).size > 1024) return archDir;
  const target = join(archDir, readFileSync(header, 'utf8').trim());
  mkdirSync(join(scratch, 'include'));
  copyFileSync(target, join(scratch, 'include', 'vmlinux.h'));
  return join(scratch, 'include');
}

function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Timed {
  const started = performance.now();
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  return { ms: performance.now() - started, ok: r.status === 0, stderr: r.stderr ?? '' };
}

async function main() {
  const corpus = libbpfToolsCorpus('bench/libbpf-tools-cli.ts');
  if (!corpus) return;
  const { dir: toolsDir, tools } = corpus;
  buildClient();
  const out = mkdtempSync(join(tmpdir(), 'lbc-bench-tools-cli-'));
  const redis = await startPrivateRedis();
  const service = await startService({ redisUrl: redis.url });
  const env: NodeJS.ProcessEnv = { ...process.env, LBC_SERVER: service.url };
  delete env.LBC_CLIENT_FROM_SOURCE;
  const headerDir = headerDirFor(toolsDir, out);
  const lbcCompile = (tool: string, extra: string[] = []) =>
    timed(LBC_LAUNCHER, ['compile', `${tool}.bpf.c`, '-I', targetArch, ...extra, '-o', join(out, `${tool}.lbc.o`)], toolsDir, env);
  const bareClang = (tool: string) =>
    timed('clang-16', ['-O2', '-g', '-target', 'bpf', `-D__TARGET_ARCH_${targetArch}`, '-I', headerDir, '-I', targetArch, '-I', '.', '-c', `${tool}.bpf.c`, '-o', join(out, `${tool}.bare.o`)], toolsDir);
  try {
    const warmUp = lbcCompile(tools[0]!, ['-D', 'LBC_BENCH_WARM_UP=1']);
    if (!warmUp.ok) throw new Error(`warm-up compile of ${tools[0]} failed:\n${warmUp.stderr}`);
    const totals = { bare: 0, cold: 0, warm: 0 };
    const counts = { bare: 0, cold: 0, warm: 0 };
    const failures: string[] = [];
    for (const tool of tools) {
      const bare = bareClang(tool);
      const cold = lbcCompile(tool);
      const warm = lbcCompile(tool);
      if (cold.ok && !/\bcompiled\b/.test(cold.stderr)) throw new Error(`${tool}: the cold compile was not compiled by the farm:\n${cold.stderr}`);
      if (warm.ok && !/\bcached\b/.test(warm.stderr)) throw new Error(`${tool}: the warm compile was not a cache hit:\n${warm.stderr}`);
      for (const [way, t] of Object.entries({ bare, cold, warm }) as [keyof typeof totals, Timed][]) {
        totals[way] += t.ms;
        if (t.ok) counts[way]++;
        else failures.push(`${tool} (${way}): ${t.stderr.split('\n').find((l) => /error/i.test(l))?.slice(0, 160) ?? t.stderr.slice(0, 160)}`);
      }
    }
    const load = (await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ');
    report(`libbpf-tools (${tools.length} tools) one after another: bare host clang vs lbc compile, interleaved per tool`, [
      ['bare clang-16 (x86/vmlinux.h, no PCH)', `${(totals.bare / 1000).toFixed(1)} s, ${counts.bare}/${tools.length} compiled`],
      ['lbc compile, cold (the farm compiles)', `${(totals.cold / 1000).toFixed(1)} s, ${counts.cold}/${tools.length} compiled`],
      ['lbc compile, warm (the service cache answers)', `${(totals.warm / 1000).toFixed(1)} s, ${counts.warm}/${tools.length} compiled`],
      ['ratio cold / bare (goal <= 1x)', ratio(totals.cold, totals.bare)],
      ['ratio warm / bare (goal <= 0.2x)', ratio(totals.warm, totals.bare)],
      ['load average at the end (1, 5, 15 min)', load],
    ]);
    if (failures.length) console.log(`failed (counted in the times): ${failures.join('; ')}`);
  } finally {
    await service.stop();
    await redis.stop();
    rmSync(out, { recursive: true, force: true });
  }
}

await main();
