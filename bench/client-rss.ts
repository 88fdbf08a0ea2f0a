/**
 * Client memory while attached and streaming (issue 3): VmRSS sampled from /proc/PID/status every
 * 100 ms for ~5 s while a shell loop drives exec events at a steady rate, plus VmHWM at the end;
 * the same for bpftrace printing the same events, in the same run. Goal ≤ 60 MB (bcc: 92 MB in
 * pylcc's published comparison). The lbc object comes from a warm local cache, service stopped.
 * lbc is measured as users run it (the client's build: `node app.mjs`, `lbc run`), and the script
 * also from the TypeScript sources through tsx for comparison.
 * Run: node --import tsx bench/client-rss.ts [seconds]
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ratio, report } from './stats.ts';
import { procMemory, processTree, startExecLoop, startStreamer } from './fixtures/processes.ts';
import { DEAD_SERVER, FIXTURES, warmCache } from './fixtures/warm-cache.ts';
import { LBC_LAUNCHER } from './fixtures/built-client.ts';

const seconds = Number(process.argv[2] ?? 5);
const REPO = resolve(import.meta.dirname, '..');
const node = process.execPath;
const mb = (kb: number) => kb / 1024;
const fmtMb = (kb: number) => `${mb(kb).toFixed(1)} MB`;

interface Usage {
  peakRssKb: number;
  hwmKb: number;
  peakTreeKb: number;
  treeSize: number;
  events: number;
  rate: number;
}

async function measure(cmd: string, args: string[], pattern: RegExp): Promise<Usage> {
  const streamer = startStreamer(cmd, args, pattern, REPO);
  const pid = streamer.child.pid!;
  try {
    const deadline = Date.now() + 30_000;
    while (streamer.events() === 0) {
      if (streamer.child.exitCode !== null || Date.now() > deadline) throw new Error(`${cmd} never streamed an event:\n${streamer.stderr()}`);
      await sleep(20);
    }
    const startEvents = streamer.events();
    const start = Date.now();
    let peakRssKb = 0;
    let peakTreeKb = 0;
    let treeSize = 1;
    let hwmKb = 0;
    while (Date.now() - start < seconds * 1000) {
      await sleep(100);
      const own = procMemory(pid);
      if (!own) throw new Error(`${cmd} exited while streaming:\n${streamer.stderr()}`);
      peakRssKb = Math.max(peakRssKb, own.rssKb);
      hwmKb = own.hwmKb;
      const tree = processTree(pid);
      treeSize = Math.max(treeSize, tree.length);
      peakTreeKb = Math.max(peakTreeKb, tree.reduce((sum, p) => sum + (procMemory(p)?.rssKb ?? 0), 0));
    }
    const events = streamer.events() - startEvents;
    return { peakRssKb, hwmKb, peakTreeKb, treeSize, events, rate: events / ((Date.now() - start) / 1000) };
  } finally {
    await streamer.stop();
  }
}

const rows = (label: string, u: Usage): [string, string][] => [
  [`${label}: peak VmRSS while streaming`, fmtMb(u.peakRssKb)],
  [`${label}: VmHWM at the end`, fmtMb(u.hwmKb)],
  [`${label}: peak RSS of its process tree (${u.treeSize} process${u.treeSize > 1 ? 'es' : ''})`, fmtMb(u.peakTreeKb)],
  [`${label}: events streamed`, `${u.events} (${u.rate.toFixed(0)}/s)`],
];

async function main() {
  const cache = await warmCache();
  const trigger = startExecLoop(0.005);
  try {
    const scriptArgs = [resolve(FIXTURES, 'exec-client.mjs'), cache.cacheDir, DEAD_SERVER];
    const script = await measure(node, scriptArgs, /^EXEC /);
    const scriptSource = await measure(node, ['--import', 'tsx', '--conditions=lbc-source', ...scriptArgs], /^EXEC /);
    const cli = await measure(
      LBC_LAUNCHER,
      ['run', '--json', '--server', DEAD_SERVER, '--cache-dir', cache.cacheDir, resolve(FIXTURES, 'benchexec.bpf.c')],
      /"event"/,
    );
    // What node alone holds, idle, before any lbc code: bare and with the tsx loader.
    const idle = 'console.log("EXEC"); setInterval(() => {}, 1000);';
    const bareNode = await measure(node, ['-e', idle], /^EXEC/);
    const tsxNode = await measure(node, ['--import', 'tsx', '-e', idle], /^EXEC/);
    const bpftrace = await measure('bpftrace', ['-e', 'tracepoint:sched:sched_process_exec { printf("EXEC %d %s\\n", pid, comm); }'], /^EXEC /);
    report(`RSS while attached and streaming exec events for ${seconds} s (ring buffer, warm cache)`, [
      ...rows('lbc script (node exec-client.mjs, dist/)', script),
      ...rows('lbc run --json (bin/lbc, startup snapshot)', cli),
      ...rows('lbc script from source (node --import tsx, src/)', scriptSource),
      ...rows('bpftrace -e', bpftrace),
      ['idle bare node -e: VmHWM', fmtMb(bareNode.hwmKb)],
      ['idle node --import tsx -e: VmHWM', fmtMb(tsxNode.hwmKb)],
      ['lbc script VmHWM above idle bare node', fmtMb(script.hwmKb - bareNode.hwmKb)],
      ['lbc script from source VmHWM above idle node+tsx', fmtMb(scriptSource.hwmKb - tsxNode.hwmKb)],
      ['lbc script VmHWM vs goal 60 MB', ratio(mb(script.hwmKb), 60)],
      ['lbc run VmHWM vs goal 60 MB', ratio(mb(cli.hwmKb), 60)],
      ['lbc script VmHWM vs bcc 92 MB (published)', ratio(mb(script.hwmKb), 92)],
      ['lbc script / bpftrace (VmHWM)', ratio(script.hwmKb, bpftrace.hwmKb)],
      ['lbc script from source / bpftrace (VmHWM)', ratio(scriptSource.hwmKb, bpftrace.hwmKb)],
    ]);
  } finally {
    await trigger.stop();
    cache.remove();
  }
}

await main();
