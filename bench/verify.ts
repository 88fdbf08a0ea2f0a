/**
 * lbc verify: the 5-kernel matrix for one program (wall, and boot to verdict per kernel), a cached
 * verdict (POST /v1/verify answered from the verdict cache, over HTTP), and the corpus figure: every
 * program of test/fixtures/verify and bench/fixtures/verify-corpus (kprobe, kretprobe, fentry/fexit,
 * tp_btf, tracepoint, uprobe, ring and perf buffers, CO-RE reads of task_struct, sk_buff and file)
 * verified on every lab kernel: how many load and attach per kernel.
 * Run: npm run bench -- verify   (LBC_LAB_KERNELS=id,id narrows the kernels)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { KernelVerdict, VerifyAccepted, VerifyJobStatus, VerifyResult } from '@lbc/contract';
import { labKernelSpecs } from '@lbc/core/lab';
import { startVerifyFarm, type VerifyFarm } from '@lbc/test-support/verify-farm';
import { fmt, median, percentile, ratio, report, timeMs } from './stats.ts';

const ROOT = join(import.meta.dirname, '..');
const CORPUS_DIRS = [join(ROOT, 'test', 'fixtures', 'verify'), join(ROOT, 'bench', 'fixtures', 'verify-corpus')];
/** Opens, reads, writes, unlinks and execs: something for every program of the corpus to see. */
const WORKLOAD = { command: ['sh', '-c', 'echo lbc > /tmp/f; cat /tmp/f /proc/version >/dev/null; rm /tmp/f'], repeat: 3 };

async function verify(farm: VerifyFarm, body: object): Promise<VerifyResult> {
  const headers = { authorization: `Bearer ${farm.tokens.alice}`, 'content-type': 'application/json' };
  const res = await fetch(`${farm.service.url}/v1/verify`, { method: 'POST', headers, body: JSON.stringify({ waitMs: 0, ...body }) });
  const json = (await res.json()) as VerifyResult | VerifyAccepted;
  if (res.status === 200) return json as VerifyResult;
  if (res.status !== 202) throw new Error(`POST /v1/verify: ${res.status} ${JSON.stringify(json)}`);
  for (;;) {
    const status = (await (await fetch(`${farm.service.url}${(json as VerifyAccepted).url}`, { headers })).json()) as VerifyJobStatus;
    if (status.state === 'completed' && status.result) return status.result;
    if (status.state === 'failed' || status.error) throw new Error(`verify job: ${JSON.stringify(status.error)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** L: loaded, A: attached, h: attaches by hand (no target in its section), -: did not load, off: turned off (twin). */
function mark(v: KernelVerdict): string {
  if (v.status === 'error') return `error (${v.error?.code})`;
  return v.programs
    .map((p) => `${p.name}:${!p.autoload ? 'off' : !p.loaded ? '-' : p.attached ? 'LA' : /by hand/.test(p.error ?? '') ? 'Lh' : 'L'}`)
    .join(' ');
}

async function main() {
  const ids = process.env.LBC_LAB_KERNELS?.split(',') ?? labKernelSpecs().map((k) => k.id);
  // LBC_VERIFY_CORPUS=0: the matrix and the cached verdict only.
  const corpus = process.env.LBC_VERIFY_CORPUS !== '0';
  const [ingestMs, farm] = await timeMs(() => startVerifyFarm(ids));
  try {
    const kernels = ids.map((id) => farm.kernels[id]!);
    const own = readFileSync(join(CORPUS_DIRS[0]!, 'opens.bpf.c'), 'utf8');
    const request = { name: 'opens', source: own, allBootable: true, workload: WORKLOAD };
    const [matrixMs, matrix] = await timeMs(() => verify(farm, request));
    const rows: [string, string][] = [[`ingest ${kernels.length} kernel packages`, fmt(ingestMs)]];
    rows.push([`matrix: opens.bpf.c on ${kernels.length} kernels (compile + boot + verdict, first time)`, fmt(matrixMs)]);
    for (const v of matrix.verdicts) rows.push([`  ${v.kernel.release} ${v.kernel.arch}`, `${v.status}, boot to verdict ${v.bootMs !== undefined ? fmt(v.bootMs) : '-'}`]);
    // Interleaved with the same HTTP round trip to a route that does nothing: what the machine's load adds to any answer.
    const cached: number[] = [];
    const limits: number[] = [];
    for (let i = 0; i < 30; i++) {
      const [ms, again] = await timeMs(() => verify(farm, request));
      if (!again.verdicts.every((v) => v.cached)) throw new Error('a repeated request was not answered from the cache');
      cached.push(ms);
      limits.push((await timeMs(async () => (await fetch(`${farm.service.url}/v1/limits`, { headers: { authorization: `Bearer ${farm.tokens.alice}` } })).json()))[0]);
    }
    rows.push([`cached verdict, ${kernels.length} kernels, POST over HTTP (30 runs)`, `median ${fmt(median(cached))}, p95 ${fmt(percentile(cached, 95))}`]);
    rows.push(['  GET /v1/limits, interleaved (30 runs): the HTTP round trip alone', `median ${fmt(median(limits))}: verify ${ratio(median(cached), median(limits))}, host load average ${loadavg()[0]!.toFixed(1)}`]);
    report('lbc verify', rows);

    if (!corpus) return;
    // The corpus, every program on every kernel.
    const files = CORPUS_DIRS.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.bpf.c')).map((f) => join(dir, f)));
    const perKernel = new Map<string, { loaded: number; attached: number; programs: number; files: number; filesPassed: number }>();
    const lines: string[] = [];
    console.log(`\ncorpus: ${files.length} programs (${files.map((f) => f.slice(f.lastIndexOf('/') + 1)).join(', ')}); L loaded, A attached, h attaches by hand, - did not load, off turned off`);
    for (const file of files) {
      const name = file.slice(file.lastIndexOf('/') + 1).replace(/\.bpf\.c$/, '');
      const result = await verify(farm, { name, source: readFileSync(file, 'utf8'), allBootable: true, workload: WORKLOAD });
      const first = lines.length;
      lines.push(`${name}`);
      for (const v of result.verdicts) {
        const key = `${v.kernel.release} ${v.kernel.arch}`;
        const tally = perKernel.get(key) ?? { loaded: 0, attached: 0, programs: 0, files: 0, filesPassed: 0 };
        const meant = v.programs.filter((p) => p.autoload);
        tally.programs += meant.length;
        tally.loaded += meant.filter((p) => p.loaded).length;
        tally.attached += meant.filter((p) => p.attached).length;
        tally.files++;
        if (v.status === 'passed') tally.filesPassed++;
        perKernel.set(key, tally);
        lines.push(`  ${key.padEnd(40)} ${v.status.padEnd(7)} ${mark(v)}`);
      }
      // As it goes: a corpus run takes minutes per program on a busy machine.
      console.log(lines.slice(first).join('\n'));
    }
    report(
      'corpus per kernel (programs meant to load: loaded, attached; files that passed)',
      [...perKernel].map(([k, t]) => [k, `loaded ${t.loaded}/${t.programs}, attached ${t.attached}/${t.programs}, files passed ${t.filesPassed}/${t.files}`]),
    );
  } finally {
    await farm.stop();
  }
}

await main();
