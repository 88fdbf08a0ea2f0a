/**
 * `lbc compile` when the service has the object (issue 16: goal ≤ 4× curl's time for the same
 * request): the CLI as users start it (client/bin/lbc: the V8 snapshot of the built CLI when there
 * is one), its wall time and peak RSS, against curl posting the same JSON request the CLI posts
 * (`?include=object`: the answer carries the object, one round trip), and curl posting it without
 * the flag and then fetching the object (the two requests the CLI made before), interleaved rounds, one run.
 * Run: node --import tsx bench/compile-cli.ts [rounds]   (build the client first: npm run build -w lbc-client;
 * LBC_BENCH_OTHER_CLI=path/to/bin/lbc times another build of the CLI in the same rounds, e.g. the one before a change)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { detectTarget } from '../client/src/target/index.ts';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { fmt, median, ratio, report } from './stats.ts';

const rounds = Number(process.argv[2] ?? 15);
const LBC = resolve(import.meta.dirname, '../client/bin/lbc');
const SOURCE = readFileSync(resolve(import.meta.dirname, 'fixtures/benchexec.bpf.c'), 'utf8');

/** Wall ms and peak RSS (KB) of one command, from GNU time. */
function timed(cmd: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { ms: number; rssKb: number } {
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...cmd], { cwd, env, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, rssKb: Number(r.stderr.trim().split('\n').pop()) };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'lbc-bench-cli-'));
  const redis = await startPrivateRedis();
  const service = await startService({ redisUrl: redis.url });
  try {
    writeFileSync(join(dir, 'benchexec.bpf.c'), SOURCE);
    const t = detectTarget();
    const body = JSON.stringify({ name: 'benchexec', source: SOURCE, includes: {}, cflags: [], target: { release: t.release, arch: t.arch, btfSha256: t.btfSha256, ...(t.distro ? { distro: t.distro } : {}) }, waitMs: 20_000 });
    writeFileSync(join(dir, 'req.json'), body);
    const env: NodeJS.ProcessEnv = { ...process.env, LBC_SERVER: service.url };
    delete env.LBC_CLIENT_FROM_SOURCE;
    const lbc = [LBC, 'compile', 'benchexec.bpf.c', '-o', join(dir, 'out.o')];
    // Warm: the object is compiled and cached by the service, the CLI's snapshot and identity cache are made.
    execFileSync(LBC, lbc.slice(1), { cwd: dir, env, stdio: 'ignore' });
    const answer = JSON.parse(execFileSync('curl', ['-s', '-H', 'content-type: application/json', '--data-binary', '@req.json', `${service.url}/v1/compile?include=object`], { cwd: dir, encoding: 'utf8' }));
    if (!answer.cached || !answer.objectBase64) throw new Error(`not a cache hit with the object: ${JSON.stringify(answer).slice(0, 300)}`);
    const curlPostArgs = ['curl', '-s', '-o', '/dev/null', '-H', 'content-type: application/json', '--data-binary', '@req.json'];
    const post = [...curlPostArgs, `${service.url}/v1/compile?include=object`];
    const postPlain = [...curlPostArgs, `${service.url}/v1/compile`];
    const fetchObject = ['curl', '-s', '-o', join(dir, 'curl.o'), `${service.url}${answer.artifact.url}`];
    const other = process.env.LBC_BENCH_OTHER_CLI;
    const otherCmd = other ? [other, ...lbc.slice(1)] : undefined;
    if (otherCmd) execFileSync(otherCmd[0]!, otherCmd.slice(1), { cwd: dir, env, stdio: 'ignore' });
    // node as bin/lbc starts it: without NODE_EXTRA_CA_CERTS (parsed at every start; the launcher hands it over as LBC_EXTRA_CA_CERTS).
    const bareEnv: NodeJS.ProcessEnv = { ...process.env };
    delete bareEnv.NODE_EXTRA_CA_CERTS;
    const loadBefore = loadavg()[0]!;
    const otherMs: number[] = [];
    const otherRss: number[] = [];
    const bareNode: number[] = [];
    const cli: number[] = [];
    const cliRss: number[] = [];
    const curlPost: number[] = [];
    const curlBoth: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const c = timed(lbc, dir, env);
      cli.push(c.ms);
      cliRss.push(c.rssKb);
      if (otherCmd) {
        const o = timed(otherCmd, dir, env);
        otherMs.push(o.ms);
        otherRss.push(o.rssKb);
      }
      bareNode.push(timed([process.execPath, '-e', '0'], dir, bareEnv).ms);
      curlPost.push(timed(post, dir).ms);
      curlBoth.push(timed(postPlain, dir).ms + timed(fetchObject, dir).ms);
    }
    report(`lbc compile, cache hit on the service (median of ${rounds}, interleaved)`, [
      ['lbc compile (client/bin/lbc)', `${fmt(median(cli))}, peak RSS ${(median(cliRss) / 1024).toFixed(1)} MB`],
      ['curl POST /v1/compile?include=object', fmt(median(curlPost))],
      ['node -e 0 (node starting, nothing else, no NODE_EXTRA_CA_CERTS)', `${fmt(median(bareNode))}: ${ratio(median(bareNode), median(curlPost))} of curl POST`],
      ['curl POST (no include) + GET the object', fmt(median(curlBoth))],
      ['ratio to curl POST (goal ≤ 4x)', ratio(median(cli), median(curlPost))],
      ['ratio to curl POST + GET', ratio(median(cli), median(curlBoth))],
      ['host load average (1 min) before / after', `${loadBefore.toFixed(1)} / ${loadavg()[0]!.toFixed(1)}`],
      ...(other ? ([[`other CLI (${other})`, `${fmt(median(otherMs))}, peak RSS ${(median(otherRss) / 1024).toFixed(1)} MB: ${ratio(median(otherMs), median(curlPost))} of curl POST`]] as [string, string][]) : []),
    ]);
  } finally {
    await service.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
