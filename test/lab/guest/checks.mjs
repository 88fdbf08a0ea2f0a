// Runs inside a lab guest (node from the host, the client bundled from client/src): each check
// loads a program the host compiled for this kernel through the client's own code (new Lbc, its
// local cache, libbpf through the addon), makes the kernel run it, and prints one record line.
// Arguments: the checks to run (names below). Environment: LBC_LAB_RECORD, the record marker.
import { closeSync, openSync, constants } from 'node:fs';
import { constants as os } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lbc, detectTarget } from '/lab/client/dist/index.js';

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

const mine = (e) => e.pid === process.pid;

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
