// Runs inside a lab guest (node from the host, the client bundled from client/src): each check
// loads a program the host compiled for this kernel through the client's own code (new Lbc, its
// local cache, libbpf through the addon), makes the kernel run it, and prints one record line.
// Arguments: the checks to run (names below). Environment: LBC_LAB_RECORD, the record marker.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, constants, readFileSync } from 'node:fs';
import { constants as os } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lbc, KernelView, detectTarget, inspectProgram, inspectPrograms, measureRunStats } from '/lab/client/dist/index.js';

const MARKER = process.env.LBC_LAB_RECORD;
const PROGS = '/lab/progs';
// No service in the guest: an object missing from the cache must fail, not be compiled.
const OFFLINE = { cwd: PROGS, server: 'http://127.0.0.1:9' };
const started = performance.now();

function report(record) {
  process.stdout.write(`${MARKER} ${JSON.stringify({ ...record, atMs: Math.round(performance.now() - started) })}\n`);
}

function tryOpen(path, flags = constants.O_RDONLY) {
  try {
    closeSync(openSync(path, flags));
    return 0;
  } catch (err) {
    return err.errno; // negative in node: -ENOENT
  }
}

/** Subscribes, runs `act`, and waits (bounded) for an event `match` accepts. */
async function eventFrom(lbc, act, match, ms = 10_000) {
  const seen = [];
  const sub = lbc.maps.events.openRingBuffer((e) => seen.push(e));
  try {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      act();
      for (let i = 0; i < 10; i++) {
        const hit = seen.find(match);
        if (hit) return { event: hit, seen: seen.length };
        await sleep(20);
      }
    }
    return { event: null, seen: seen.length, sample: seen.slice(-3) };
  } finally {
    sub.close();
  }
}

const mine = (e) => e.pid === process.pid && e.ppid === process.ppid;

const CHECKS = {
  target: async () => {
    const t = detectTarget();
    return { ok: true, release: t.release, arch: t.arch, btfSha256: t.btfSha256 };
  },
  // Entry probes: the path this process opened, read by the program from user memory.
  kprobe: async () => entryProbe('lab_kprobe', 1),
  fentry: async () => entryProbe('lab_fentry', 3),
  // kretprobe: the -errno of an open that must fail (O_DIRECTORY on a file: -ENOTDIR).
  kretprobe: async () => {
    const lbc = await new Lbc('lab_kretprobe', undefined, OFFLINE).ready;
    try {
      const want = -os.errno.ENOTDIR;
      const got = await eventFrom(lbc, () => tryOpen('/lab/checks.mjs', constants.O_RDONLY | constants.O_DIRECTORY), (e) => mine(e) && e.ret === want && e.kind === 2);
      return { ok: got.event !== null, origin: lbc.origin, programs: lbc.programs.map((p) => p.name), ...got };
    } finally {
      lbc.close();
    }
  },
  // fexit: arguments and the return value together.
  fexit: async () => {
    const lbc = await new Lbc('lab_fexit', undefined, OFFLINE).ready;
    try {
      const path = `/lab/no-such-file-fexit-${process.pid}`;
      const got = await eventFrom(lbc, () => tryOpen(path), (e) => mine(e) && e.path === path && e.ret === -os.errno.ENOENT && e.kind === 4);
      return { ok: got.event !== null, origin: lbc.origin, programs: lbc.programs.map((p) => p.name), ...got };
    } finally {
      lbc.close();
    }
  },
  // A twin whose fentry loads everywhere but attaches only where trampolines take 7+ arguments.
  mmapTwin: async () => {
    let lbc;
    try {
      lbc = await new Lbc('lab_mmap_twin', undefined, OFFLINE).ready;
    } catch (err) {
      return { ok: false, stage: 'load', error: { code: err.code, message: String(err.message).split('\n').slice(0, 6).join('\n') } };
    }
    try {
      // An anonymous mapping from this process: a large allocation is mmap'd by malloc.
      const keep = [];
      const got = await eventFrom(lbc, () => keep.push(new ArrayBuffer(4 << 20)), (e) => mine(e));
      const autoload = Object.fromEntries(lbc.programs.map((p) => [p.name, p.autoload]));
      lbc.close();
      // The same object with both programs attached as written: what the fallback spared us.
      const asWritten = await new Lbc('lab_mmap_twin', undefined, { ...OFFLINE, fallbacks: false }).ready.then(
        (both) => (both.close(), { attached: true }),
        (err) => ({ attached: false, code: err.code, message: String(err.message).split('\n')[0] }),
      );
      return { ok: got.event !== null, fallbacks: lbc.fallbacks, autoload, kind: got.event?.kind ?? null, asWritten, ...got };
    } finally {
      lbc.close();
    }
  },
  trace: traceCheck,
  // One object compiled against the newest header, fitted to this kernel by its CO-RE relocations.
  coreFixes: async () => {
    let lbc;
    try {
      lbc = await new Lbc('lab_core_fixes', undefined, OFFLINE).ready;
    } catch (err) {
      return { ok: false, stage: 'load', error: { code: err.code, message: String(err.message).split('\n').slice(0, 8).join('\n') } };
    }
    try {
      const got = await eventFrom(lbc, () => tryOpen(`/lab/no-such-file-core-${process.pid}`), (e) => mine(e));
      return { ok: got.event !== null, origin: lbc.origin, ...got };
    } finally {
      lbc.close();
    }
  },
  inspect: inspectCheck,
  // The twin fallback with its defaults: fentry where this kernel loads it, else the kprobe.
  twin: async () => {
    const lbc = await new Lbc('lab_twin', undefined, OFFLINE).ready;
    try {
      const path = `/lab/no-such-file-twin-${process.pid}`;
      const got = await eventFrom(lbc, () => tryOpen(path), (e) => mine(e) && e.path === path);
      // Both sides would report; give a wrongly attached twin time to show up too.
      await sleep(100);
      const autoload = Object.fromEntries(lbc.programs.map((p) => [p.name, p.autoload]));
      return { ok: got.event !== null, fallbacks: lbc.fallbacks, autoload, kind: got.event?.kind ?? null, ...got };
    } finally {
      lbc.close();
    }
  },
};

/**
 * `lbc trace` (the bundled CLI) live on this kernel: a kprobe reading members of the new task by
 * their BTF offsets, and a kretprobe's return value. The records carry the lines the CLI printed;
 * a wrong offset shows as a pid that is not the child's. (S: signed, as in surftrace; unsigned is the default.)
 */
async function traceCheck() {
  const args = ['/lab/client/dist/cli.js', 'trace', 'p wake_up_new_task comm=%0->comm pid=%0->pid', 'r do_sys_openat2 ret=S$retval'];
  const cli = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  cli.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  cli.stderr.setEncoding('utf8').on('data', (c) => (err += c));
  const exited = new Promise((resolve) => cli.once('exit', (code, signal) => resolve(code ?? signal)));
  const waitFor = async (cond, ms) => {
    for (const end = Date.now() + ms; Date.now() < end && !cond(); ) await sleep(50);
    return cond();
  };
  if (!(await waitFor(() => err.includes('Ctrl-C to stop') || cli.exitCode !== null, 60_000))) {
    cli.kill('SIGKILL');
    return { ok: false, stage: 'start', stderr: err };
  }
  const children = [];
  const path = `/lab/no-such-file-trace-${process.pid}`;
  const lines = () => out.split('\n');
  const entry = () => lines().find((l) => / p0: /.test(l) && children.some((pid) => l.includes(` pid=${pid}`)));
  const ret = () => lines().find((l) => / r1: /.test(l) && l.includes(`-${process.pid} `) && /ret=-2\b/.test(l));
  await waitFor(() => {
    children.push(spawnSync('/bin/true').pid);
    tryOpen(path);
    return Boolean(entry() && ret());
  }, 15_000);
  cli.kill('SIGINT');
  const exit = await exited;
  const kprobeEventsAfter = readFileSync('/sys/kernel/tracing/kprobe_events', 'utf8');
  return { ok: Boolean(entry() && ret()) && exit === 0 && kprobeEventsAfter === '', entry: entry() ?? null, ret: ret() ?? null, exit, kprobeEventsAfter, stderr: err, sample: lines().filter((l) => l.includes(` r1: `)).slice(-4) };
}

/**
 * `lbc inspect` on BPF programs attached to a BPF program: lab_inspect_target's tracepoint program
 * loaded and attached, then fentry on it and freplace of its global function lab_inspect_count
 * (targets set to its fd); what the kernel reports about each (raw info and lbc's reading of it),
 * whether both ran, run counts with stats on, and the CLI's table.
 */
async function inspectCheck() {
  const stage = { at: 'target' };
  const target = await new Lbc('lab_inspect_target', undefined, { ...OFFLINE, load: false }).ready;
  const opened = [];
  try {
    target.rodata.target_pid = process.pid;
    await target.load();
    await target.attach();
    const targetId = target.programs.lab_inspect_openat_target.id;
    stage.at = 'tracer';
    const tracer = await new Lbc('lab_inspect_tracer', undefined, { ...OFFLINE, load: false, fallbacks: false }).ready;
    opened.push(tracer);
    const fentry = tracer.programs.lab_inspect_fentry_on_bpf_prog;
    const ext = tracer.programs.lab_inspect_count_replacement;
    fentry.setAttachTarget('lab_inspect_openat_target', target.programs.lab_inspect_openat_target);
    ext.setAttachTarget('lab_inspect_count', target.programs.lab_inspect_openat_target.fd);
    stage.at = 'tracer load';
    await tracer.load();
    stage.at = 'tracer attach';
    let attachError = null;
    try {
      await tracer.attach();
    } catch (err) {
      attachError = { code: err.code, message: String(err.message).split('\n')[0] };
    }
    // From here on every call of lab_inspect_count is the replacement's: 1000 each.
    const countedAtAttach = target.bss.counted;
    // fentry on a kernel function beside them: its target is placed in vmlinux's BTF.
    stage.at = 'kernel fentry';
    const onKernel = await new Lbc('lab_fentry', undefined, OFFLINE).ready;
    opened.push(onKernel);
    stage.at = 'inspect';
    const ids = { target: targetId, fentry: fentry.id, ext: ext.id, kernelFentry: onKernel.programs.lab_fentry.id };
    const openSome = (n) => { for (let i = 0; i < n; i++) tryOpen('/lab/checks.mjs'); };
    const stats = await measureRunStats(0.5, { ids: Object.values(ids), during: () => openSome(20) });
    const view = new KernelView();
    const raw = Object.fromEntries(Object.entries(ids).map(([k, id]) => {
      const p = view.program(id);
      return [k, { infoLen: p.infoLen, attachBtfObjId: p.attachBtfObjId, attachBtfId: p.attachBtfId, btfId: p.btfId, verifiedInsns: p.verifiedInsns }];
    }));
    const links = view.links().filter((l) => l.progId === ids.fentry || l.progId === ids.ext || l.progId === ids.kernelFentry);
    const progs = inspectPrograms().filter((p) => Object.values(ids).includes(p.id));
    const detail = inspectProgram(targetId);
    const cli = spawnSync(process.execPath, ['/lab/client/dist/cli.js', 'inspect', 'progs'], { encoding: 'utf8' });
    const cliJson = spawnSync(process.execPath, ['/lab/client/dist/cli.js', 'inspect', 'prog', String(ids.ext), '--json'], { encoding: 'utf8' });
    const json = (v) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
    return {
      ok: attachError === null,
      attachError,
      ids,
      countedSinceAttach: (target.bss.counted - countedAtAttach).toString(),
      fentryHits: tracer.bss.fentry_hits.toString(),
      replacedCalls: tracer.bss.replaced_calls.toString(),
      stats: json(Object.fromEntries([...stats].map(([id, s]) => [id, s]))),
      raw: json(raw),
      links: json(links),
      progs: json(progs),
      attachedBy: json(detail.attachedBy),
      functions: detail.functions,
      cli: cli.stdout,
      cliErr: cli.stderr,
      cliExt: cliJson.stdout ? JSON.parse(cliJson.stdout) : cliJson.stderr,
    };
  } catch (err) {
    return { ok: false, stage: stage.at, error: { code: err.code, message: String(err.message ?? err).split('\n').slice(0, 12).join('\n') } };
  } finally {
    for (const o of opened) o.close();
    target.close();
  }
}

async function entryProbe(name, kind) {
  const lbc = await new Lbc(name, undefined, OFFLINE).ready;
  try {
    const path = `/lab/no-such-file-${name}-${process.pid}`;
    const got = await eventFrom(lbc, () => tryOpen(path), (e) => mine(e) && e.path === path && e.kind === kind && e.comm === 'node');
    return { ok: got.event !== null, origin: lbc.origin, programs: lbc.programs.map((p) => p.name), ...got };
  } finally {
    lbc.close();
  }
}

for (const name of process.argv.slice(2)) {
  const check = CHECKS[name];
  try {
    if (!check) throw new Error(`no check named ${name}`);
    report({ check: name, ...(await check()) });
  } catch (err) {
    report({ check: name, ok: false, error: { code: err.code, message: String(err.message ?? err).split('\n').slice(0, 12).join('\n') } });
  }
}
