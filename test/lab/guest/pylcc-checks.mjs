// Runs inside a lab guest: pylcc-style kprobe tools (test/lab/pylcc-programs/) loaded from the
// host-compiled cache through the client, a workload this script makes itself, and what their maps
// and events hold; kprobe.multi and BPF LSM; the libbpf-tools-style probe helpers and ksyms.
// Arguments: the checks to run. Environment: LBC_LAB_RECORD, the record marker.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lbc, ksyms, kprobeExists, kprobeFunctions, fentryCanAttach, tracepointExists, probeTpBtf } from '/lab/client/dist/index.js';

const MARKER = process.env.LBC_LAB_RECORD;
// No service in the guest: an object missing from the cache must fail, not be compiled.
const OFFLINE = { cwd: '/lab/progs', server: 'http://127.0.0.1:9' };
const started = performance.now();
const json = (v) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));

function report(record) {
  process.stdout.write(`${MARKER} ${JSON.stringify(json({ ...record, atMs: Math.round(performance.now() - started) }))}\n`);
}

function failure(err, lines = 8) {
  return { code: err.code, message: String(err.message ?? err).split('\n').slice(0, lines).join('\n') };
}

function tryOpen(path, flags = constants.O_RDONLY) {
  try {
    closeSync(openSync(path, flags));
    return 0;
  } catch (err) {
    return err.errno;
  }
}

/** pylcc users pick the first name this kernel has: the function as written, then its compiler clones. */
function firstKprobe(...candidates) {
  for (const name of candidates) {
    const found = kprobeFunctions(name);
    if (found.length) return found[0];
  }
  return null;
}

// Syscall entry points carry the architecture's prefix: __x64_sys_execve, __arm64_sys_execve.
const SYSCALL_PREFIX = { x64: '__x64_', arm64: '__arm64_' };

const CHECKS = {
  // The probe helpers, answered by this kernel (the host has no kprobes and no trampolines).
  probes: async () => {
    const onOpen = 'do_sys_openat2';
    return {
      ok: true,
      kprobeExists: { [onOpen]: kprobeExists(onOpen), no_such_function_lbc: kprobeExists('no_such_function_lbc') },
      kprobeFunctions: { finish_task_switch: kprobeFunctions('finish_task_switch') },
      fentryCanAttach: { [onOpen]: fentryCanAttach(onOpen), no_such_function_lbc: fentryCanAttach('no_such_function_lbc') },
      tracepointExists: { sched_switch: tracepointExists('sched', 'sched_switch'), no_such: tracepointExists('sched', 'no_such_event') },
      probeTpBtf: { sched_switch: probeTpBtf('sched_switch'), no_such: probeTpBtf('no_such_tracepoint') },
      ksyms: { [onOpen]: ksyms.address(onOpen) ?? null, size: ksyms.size },
    };
  },

  // tcprtt: TCP ping-pong over loopback in this process; every receive on the established socket fires.
  tcprtt: async () => {
    bringUpLoopback();
    const lbc = await new Lbc('pylcc_tcprtt', undefined, OFFLINE).ready;
    const events = [];
    const sub = lbc.maps.e_out.openPerfBuffer((e) => events.push(e));
    const server = createServer((s) => s.on('data', (d) => s.write(d)));
    try {
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = server.address().port;
      const sock = connect(port, '127.0.0.1');
      await new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject));
      const rounds = 50;
      for (let i = 0; i < rounds; i++) {
        const back = new Promise((resolve) => sock.once('data', resolve));
        sock.write(`ping ${i}\n`);
        await back;
      }
      sock.destroy();
      const mine = () => events.filter((e) => e.sport === port || e.dport === port);
      for (let i = 0; i < 50 && mine().length < rounds; i++) await sleep(20);
      const hist = lbc.maps.rtt_hist.hist();
      const total = hist.reduce((a, b) => a + Number(b), 0);
      const ours = mine();
      return {
        ok: ours.length > 0 && total > 0,
        port,
        pid: process.pid,
        events: ours.length,
        allEvents: events.length,
        sample: ours.slice(0, 3),
        // Receives run in the sender's softirq, or in ksoftirqd when the kernel defers them.
        pidsByComm: Object.fromEntries([...new Set(ours.map((e) => e.comm))].map((c) => [c, [...new Set(ours.filter((e) => e.comm === c).map((e) => e.pid))]])),
        hist,
        histTotal: total,
        histText: lbc.maps.rtt_hist.showHist('usecs'),
      };
    } finally {
      sub.close();
      server.close();
      lbc.close();
    }
  },

  // runqlat: this process sleeps on timers and spawns children; each wake-up to run is a wait.
  runqlat: async () => {
    const lbc = await new Lbc('pylcc_runqlat', undefined, { ...OFFLINE, attach: false }).ready;
    try {
      const func = firstKprobe('finish_task_switch');
      if (!func) return { ok: false, error: { message: 'no finish_task_switch in this kernel' } };
      lbc.attachTracepoint('j_sched_wakeup', 'sched', 'sched_wakeup');
      lbc.attachTracepoint('j_sched_wakeup_new', 'sched', 'sched_wakeup_new');
      lbc.attachKprobe('j_finish_task_switch', func);
      const children = [];
      for (let i = 0; i < 30; i++) {
        await sleep(3);
        if (i % 5 === 0) children.push(spawnSync('/bin/true').pid);
      }
      const hist = lbc.maps.lat_hist.hist();
      const waits = new Map(lbc.maps.waits.getAll().map(({ key, value }) => [Number(key), Number(value)]));
      const total = hist.reduce((a, b) => a + Number(b), 0);
      return {
        ok: total > 0,
        func,
        pid: process.pid,
        ownWaits: waits.get(process.pid) ?? 0,
        childrenWithWaits: children.filter((c) => waits.has(c)).length,
        children: children.length,
        hist,
        histTotal: total,
        histText: lbc.maps.lat_hist.showHist('usecs'),
      };
    } finally {
      lbc.close();
    }
  },

  // execsnoop: kprobe + kretprobe on this architecture's execve syscall function.
  execsnoop: async () => {
    const lbc = await new Lbc('pylcc_execsnoop', undefined, { ...OFFLINE, attach: false }).ready;
    const events = [];
    try {
      const func = firstKprobe(`${SYSCALL_PREFIX[process.arch] ?? ''}sys_execve`, 'sys_execve');
      if (!func) return { ok: false, error: { message: 'no execve syscall function found' } };
      lbc.attachKprobe('j_execve_entry', func);
      lbc.attachKretprobe('j_execve_return', func);
      const sub = lbc.maps.e_out.openPerfBuffer((e) => events.push(e));
      const children = [];
      try {
        for (let i = 0; i < 3; i++) children.push(spawnSync('/bin/true').pid);
        // An exec that fails: no such file (-ENOENT), reported by the kretprobe too.
        spawnSync('/lab/no-such-binary');
        const ours = () => events.filter((e) => children.includes(e.pid));
        for (let i = 0; i < 100 && ours().length < children.length; i++) await sleep(20);
      } finally {
        sub.close();
      }
      const ours = events.filter((e) => children.includes(e.pid));
      const failed = events.filter((e) => e.ppid === process.pid && e.ret < 0);
      return { ok: ours.length === children.length, func, pid: process.pid, children, events: ours, failed, allEvents: events.length };
    } finally {
      lbc.close();
    }
  },

  // stackcount: kernel stacks into do_sys_openat2 from this process's opens, named by the client.
  stackcount: async () => {
    const lbc = await new Lbc('pylcc_stackcount', undefined, OFFLINE).ready;
    try {
      for (let i = 0; i < 20; i++) tryOpen('/lab/checks.mjs');
      const ours = lbc.maps.counts.getAll().filter(({ key }) => key.pid === process.pid);
      const stacks = ours.map(({ key, value }) => {
        const frames = lbc.maps.call_stack.stacks(key.kstack);
        return {
          count: Number(value),
          comm: key.comm,
          kstack: key.kstack,
          frames: frames.map((f) => f.text),
          // The public ksyms API names each frame as the stack reader does.
          ksymsAgrees: frames.every((f) => ksyms.lookup(f.address)?.name === f.name && ksyms.lookup(f.address)?.offset === f.offset),
          unnamed: frames.filter((f) => f.name === null).length,
        };
      });
      const count = stacks.reduce((a, s) => a + s.count, 0);
      return { ok: count >= 20 && stacks.length > 0, pid: process.pid, count, stacks };
    } finally {
      lbc.close();
    }
  },

  // kprobe.multi: one link on every vfs_* function; this process's reads and writes hit several.
  kprobeMulti: async () => {
    const lbc = await new Lbc('lab_kprobe_multi', undefined, { ...OFFLINE, load: false }).ready;
    try {
      lbc.rodata.target_pid = process.pid;
      await lbc.load();
      try {
        lbc.programs.lab_multi_count.attachKprobeMulti('vfs_*');
      } catch (err) {
        return { ok: false, stage: 'attach', error: failure(err) };
      }
      for (let i = 0; i < 20; i++) {
        writeFileSync('/tmp/lbc-multi', `x${i}`);
        readFileSync('/tmp/lbc-multi');
      }
      const hits = {};
      for (const { key, value } of lbc.maps.hits.getAll()) {
        const sym = ksyms.lookup(BigInt(key));
        const name = sym ? sym.name : `0x${BigInt(key).toString(16)}`;
        hits[name] = (hits[name] ?? 0) + Number(value);
      }
      return { ok: Object.keys(hits).length >= 2, hits };
    } catch (err) {
      return { ok: false, stage: 'load', error: failure(err, 40) };
    } finally {
      lbc.close();
    }
  },

  // BPF LSM: file_open refuses one name to this process; the kernel's answer is the open's errno.
  lsm: async () => {
    const securityfs = '/sys/kernel/security';
    if (!existsSync(`${securityfs}/lsm`)) spawnSync('/bin/busybox', ['mount', '-t', 'securityfs', 'securityfs', securityfs]);
    const activeLsms = existsSync(`${securityfs}/lsm`) ? readFileSync(`${securityfs}/lsm`, 'utf8').trim() : null;
    const cmdline = readFileSync('/proc/cmdline', 'utf8').trim();
    const deny = '/tmp/lbc-lsm-deny';
    const allow = '/tmp/lbc-lsm-allow';
    writeFileSync(deny, 'no');
    writeFileSync(allow, 'yes');
    let lbc;
    let stage = 'open';
    try {
      lbc = await new Lbc('lab_lsm', undefined, { ...OFFLINE, load: false }).ready;
      lbc.rodata.target_pid = process.pid;
      stage = 'load';
      await lbc.load();
      stage = 'attach';
      lbc.programs.lab_file_open.attachLsm();
    } catch (err) {
      lbc?.close();
      return { ok: false, stage, activeLsms, cmdline, error: failure(err) };
    }
    const denied = tryOpen(deny);
    const allowed = tryOpen(allow);
    const opensSeen = lbc.bss.opens_seen;
    const opensDenied = lbc.bss.opens_denied;
    lbc.close();
    // Detached with close(): the same open succeeds again.
    const afterClose = tryOpen(deny);
    return { ok: true, activeLsms, cmdline, denied, allowed, afterClose, opensSeen, opensDenied };
  },
};

function bringUpLoopback() {
  const r = spawnSync('/bin/busybox', ['ip', 'link', 'set', 'lo', 'up']);
  if (r.status !== 0) spawnSync('/bin/busybox', ['ifconfig', 'lo', '127.0.0.1', 'up']);
}

for (const name of process.argv.slice(2)) {
  const check = CHECKS[name];
  try {
    if (!check) throw new Error(`no check named ${name}`);
    report({ check: name, ...(await check()) });
  } catch (err) {
    report({ check: name, ok: false, error: failure(err) });
  }
}
