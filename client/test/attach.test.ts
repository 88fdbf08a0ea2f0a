// The attach layer on the real kernel: what works here fires, what this kernel lacks fails with
// an error that says so in words and names the alternative.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNative, type NativeObject } from '../src/native/index.ts';
import { resolveLibrary, resolveSymbolOffset } from '../src/elf/index.ts';
import {
  attachBySection,
  attachCgroup,
  attachKprobe,
  attachKretprobe,
  attachPerfEventAllCpus,
  attachRawTracepoint,
  attachTrace,
  attachTracepoint,
  attachUprobe,
  attachUretprobe,
  attachXdp,
  autoAttach,
  kprobesAvailable,
  loadObject,
  onlineCpus,
} from '../src/attach/index.ts';
import { lingeringPrograms } from '@lbc/test-support/native-fixtures';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { caughtSync } from '@lbc/test-support/caught';

const native = loadNative();
const env = useNativeFixtures();

function open(name: string): NativeObject {
  const object = native.openObject(env.fixtures.object(name), name);
  loadObject(object, name);
  return object;
}

function slot(object: NativeObject, map: string, index: number): bigint {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(index);
  return native.mapLookup(object.maps().find((m) => m.name === map)!.fd, key, 8)!.readBigUInt64LE();
}

async function runWorkload(calls: number): Promise<number> {
  const child = spawn(env.workload, [String(calls)], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

describe('load errors', () => {
  it('a verifier rejection is LBC_ERR_LOAD with the verifier log tail', () => {
    const object = native.openObject(env.fixtures.object('verifier-reject'), 'verifier_reject');
    try {
      const err = caughtSync(() => loadObject(object, 'verifier_reject'));
      expect(err.code).toBe('LBC_ERR_LOAD');
      expect(err.message).toContain('program lbct_unchecked');
      expect(err.message).toContain('EACCES');
      expect(err.message).toContain("R0 invalid mem access 'map_value_or_null'");
      expect(err.details?.verifierLog).toMatch(/call bpf_map_lookup_elem/);
    } finally {
      object.close();
    }
  });

  it('fentry is LBC_ERR_ATTACH_UNSUPPORTED naming tp_btf and raw_tp', () => {
    const object = native.openObject(env.fixtures.object('fentry'), 'fentry');
    try {
      const err = caughtSync(() => loadObject(object, 'fentry'));
      expect(err.code).toBe('LBC_ERR_ATTACH_UNSUPPORTED');
      expect(err.message).toContain('lbct_fentry');
      expect(err.message).toContain('fentry, which this kernel refuses');
      expect(err.message).toMatch(/tp_btf.*raw_tp/);
      expect(err.details).toMatchObject({ kind: 'fentry', alternatives: ['tp_btf', 'raw_tp'] });
    } finally {
      object.close();
    }
  });
});

describe('kprobes on a kernel without them', () => {
  it('the kprobe program loads; attaching it says the kernel has no kprobes and names the alternatives', () => {
    expect(kprobesAvailable()).toBe(false);
    const object = open('probes');
    try {
      for (const attempt of [
        () => attachKprobe(object, 'lbct_kprobe', 'do_nanosleep'),
        () => attachKretprobe(object, 'lbct_kprobe', 'do_nanosleep'),
        () => attachBySection(object, 'lbct_kprobe'),
      ]) {
        const err = caughtSync(attempt);
        expect(err.code).toBe('LBC_ERR_ATTACH_UNSUPPORTED');
        expect(err.message).toContain('this kernel has no kprobes');
        expect(err.message).toMatch(/tracepoint.*raw tracepoint.*tp_btf/);
        expect(err.details?.alternatives).toEqual(['tracepoint', 'raw_tp', 'tp_btf']);
      }
      // autoAttach skips the target-less uprobe, then fails on the kprobe and leaves nothing attached.
      expect(caughtSync(() => autoAttach(object)).code).toBe('LBC_ERR_ATTACH_UNSUPPORTED');
    } finally {
      object.close();
    }
  });
});

describe('tracepoints', () => {
  it('tracepoint, raw_tp and tp_btf attached by hand all fire', () => {
    const object = open('exec-counter');
    const links = [
      attachTracepoint(object, 'lbct_tp_exec', 'sched', 'sched_process_exec'),
      attachRawTracepoint(object, 'lbct_raw_exec', 'sched_process_exec'),
      attachTrace(object, 'lbct_btf_exec'),
    ];
    try {
      execFileSync('/bin/true');
      expect([0, 1, 2].map((i) => slot(object, 'counts', i) >= 1n)).toEqual([true, true, true]);
    } finally {
      for (const link of links) link.destroy();
      object.close();
    }
  });

  it('autoAttach attaches every program by section', () => {
    const object = open('exec-counter');
    const { links, skipped } = autoAttach(object);
    try {
      expect(links).toHaveLength(3);
      expect(skipped).toEqual([]);
      execFileSync('/bin/true');
      expect(slot(object, 'counts', 2)).toBeGreaterThanOrEqual(1n);
    } finally {
      for (const link of links) link.destroy();
      object.close();
    }
  });

  it('an unknown tracepoint is LBC_ERR_ATTACH with the errno name and the target', () => {
    const object = open('exec-counter');
    try {
      const err = caughtSync(() => attachTracepoint(object, 'lbct_tp_exec', 'sched', 'no_such_event'));
      expect(err.code).toBe('LBC_ERR_ATTACH');
      expect(err.message).toContain('lbct_tp_exec → sched:no_such_event: ENOENT');
      expect(err.details).toMatchObject({ errnoName: 'ENOENT', target: 'sched:no_such_event' });
      expect(caughtSync(() => attachTracepoint(object, 'nope', 'sched', 'sched_switch')).code).toBe('LBC_ERR_PROGRAM_NOT_FOUND');
    } finally {
      object.close();
    }
  });
});

describe('uprobes', () => {
  it('fires on libc getppid by file offset, by symbol and as "libc:getppid"; uretprobe too', async () => {
    const object = open('probes');
    const libc = resolveLibrary('libc');
    const offset = resolveSymbolOffset(libc, 'getppid');
    try {
      const forms = [
        () => attachUprobe(object, 'lbct_uprobe', -1, libc, offset),
        () => attachUprobe(object, 'lbct_uprobe', -1, 'libc', 'getppid'),
        () => attachUprobe(object, 'lbct_uprobe', -1, 'libc:getppid'),
        () => attachUretprobe(object, 'lbct_uprobe', -1, 'libc:getppid'),
      ];
      for (const attach of forms) {
        const before = slot(object, 'hits', 0);
        const link = attach();
        try {
          await runWorkload(1000);
        } finally {
          link.destroy();
        }
        // Other processes may call getppid too: at least the workload's calls were seen.
        expect(slot(object, 'hits', 0) - before).toBeGreaterThanOrEqual(1000n);
      }
    } finally {
      object.close();
    }
  });

  it('an unknown symbol names the binary; a bad binary is LBC_ERR_ATTACH', () => {
    const object = open('probes');
    try {
      expect(caughtSync(() => attachUprobe(object, 'lbct_uprobe', -1, 'libc:no_such_function_here')).message).toContain('no_such_function_here');
      const err = caughtSync(() => attachUprobe(object, 'lbct_uprobe', -1, '/nonexistent/binary', 0x1000));
      expect(['LBC_ERR_ATTACH', 'LBC_ERR_LIBRARY_NOT_FOUND']).toContain(err.code);
    } finally {
      object.close();
    }
  });
});

describe('perf events, xdp, cgroup', () => {
  it('a perf_event program on the cpu-clock of every online CPU fires', async () => {
    const object = open('attach-kinds');
    const links = attachPerfEventAllCpus(object, 'lbct_perf_tick', { type: 1 /* PERF_TYPE_SOFTWARE */, config: 0 /* CPU_CLOCK */, sampleFreq: 1000 });
    try {
      expect(links).toHaveLength(onlineCpus().length);
      await new Promise((r) => setTimeout(r, 200));
      expect(slot(object, 'hits', 0)).toBeGreaterThan(0n);
    } finally {
      for (const link of links) link.destroy();
      object.close();
    }
  });

  it('xdp on the loopback interface (by name) sees packets', async () => {
    const object = open('attach-kinds');
    const link = attachXdp(object, 'lbct_xdp_pass', 'lo');
    try {
      const { createServer, connect } = await import('node:net');
      const server = createServer((s) => s.end()).listen(0, '127.0.0.1');
      await once(server, 'listening');
      const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
      await once(socket, 'close');
      server.close();
      expect(slot(object, 'hits', 1)).toBeGreaterThan(0n);
    } finally {
      link.destroy();
      object.close();
    }
  });

  it('cgroup_skb on a fresh cgroup v2 directory (by path) attaches; section auto-attach is skipped', () => {
    const object = open('attach-kinds');
    const dir = `/sys/fs/cgroup/unified/lbc-attach-test-${process.pid}`;
    mkdirSync(dir);
    try {
      const link = attachCgroup(object, 'lbct_cg_egress', dir);
      expect(native.listLinks().some((l) => l.typeName === 'cgroup' && l.attachType === 'cgroup_inet_egress')).toBe(true);
      link.destroy();
      expect(autoAttach(object).skipped.map((s) => s.prog).sort()).toEqual(['lbct_cg_egress', 'lbct_perf_tick', 'lbct_xdp_pass']);
    } finally {
      rmdirSync(dir);
      object.close();
    }
  });
});

describe('cleanup', () => {
  it('after close, none of the test programs is loaded', async () => {
    const object = open('exec-counter');
    const { links } = autoAttach(object);
    for (const link of links) link.destroy();
    object.close();
    expect(await lingeringPrograms()).toEqual([]);
  });
});
