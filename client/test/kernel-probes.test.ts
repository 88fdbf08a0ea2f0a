// libbpf-tools' trace_helpers, lbc's way: ksyms (ksyms__map_addr / ksyms__get_symbol) and the probe
// helpers tracepoint_exists, kprobe_exists, fentry_can_attach and probe_tp_btf, on this kernel
// (tracepoints and tp_btf yes; kprobes and trampolines no). The lab runs the true answers for
// kprobes and fentry (test/lab/pylcc-kprobe.test.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fentryCanAttach, kprobeExists, kprobeFunctions, ksyms, parseKsyms, probeTpBtf, tracepointExists } from '../src/index.ts';
import { kprobeFunctionsIn } from '../src/probes/index.ts';
import { kprobesAvailable } from '../src/attach/index.ts';

const kallsymsLine = (name: string) => readFileSync('/proc/kallsyms', 'utf8').split('\n').find((l) => new RegExp(` [tT] ${name}$`).test(l));

describe('ksyms: address → function, function → address', () => {
  it('maps an address inside a function of this kernel to that function, its start and the offset', () => {
    const line = kallsymsLine('do_sys_openat2');
    expect(line).toBeDefined();
    const start = BigInt(`0x${line!.split(' ')[0]}`);
    expect(ksyms.lookup(start + 0x11n)).toEqual({ name: 'do_sys_openat2', address: start, offset: 0x11 });
    expect(ksyms.symbol('do_sys_openat2')).toEqual({ name: 'do_sys_openat2', address: start, offset: 0 });
    expect(ksyms.address('do_sys_openat2')).toBe(start);
    expect(ksyms.size).toBeGreaterThan(10_000);
  });

  it('unknown names are undefined; an address below every symbol is null', () => {
    expect(ksyms.symbol('no_such_function_in_any_kernel')).toBeUndefined();
    expect(ksyms.address('no_such_function_in_any_kernel')).toBeUndefined();
    expect(ksyms.lookup(0x1000n)).toBeNull();
  });

  it('a table from kallsyms text: modules named, data symbols left out, numbers accepted', () => {
    const k = parseKsyms(['ffffffff81000000 T _stext', 'ffffffff81000100 t helper', 'ffffffff81000200 D some_data', 'ffffffffc0001000 t mod_fn\t[nf_tables]'].join('\n'));
    expect(k.lookup(0xffffffffc0001008n)).toEqual({ name: 'mod_fn', address: 0xffffffffc0001000n, offset: 8, module: 'nf_tables' });
    expect(k.symbol('mod_fn')).toEqual({ name: 'mod_fn', address: 0xffffffffc0001000n, offset: 0, module: 'nf_tables' });
    expect(k.symbol('some_data')).toBeUndefined();
    expect(k.lookup(0x1000)).toBeNull();
  });
});

describe('probe helpers', () => {
  it('tracepointExists: true for sched/sched_switch, false for a missing event or category and for path tricks', () => {
    expect(tracepointExists('sched', 'sched_switch')).toBe(true);
    expect(tracepointExists('syscalls', 'sys_enter_openat')).toBe(true);
    expect(tracepointExists('sched', 'no_such_event')).toBe(false);
    expect(tracepointExists('no_such_category', 'sched_switch')).toBe(false);
    expect(tracepointExists('..', 'events')).toBe(false);
  });

  it('probeTpBtf: true for a tracepoint in this kernel\'s BTF, false for a missing one', () => {
    expect(probeTpBtf('sched_switch')).toBe(true);
    expect(probeTpBtf('sched_process_exec')).toBe(true);
    expect(probeTpBtf('no_such_tracepoint')).toBe(false);
  });

  it('kprobeExists / fentryCanAttach on this kernel: no kprobes, no trampolines, so false even for a function it has', () => {
    expect(kallsymsLine('do_sys_openat2')).toBeDefined();
    expect(kprobesAvailable()).toBe(false);
    expect(kprobeExists('do_sys_openat2')).toBe(false);
    expect(kprobeFunctions('do_sys_openat2')).toEqual([]);
    expect(fentryCanAttach('do_sys_openat2')).toBe(false);
    expect(fentryCanAttach('no_such_function_in_any_kernel', 'fexit')).toBe(false);
  });

  it('the kprobe lookup over available_filter_functions or kallsyms: exact names first, compiler clones, no .cold parts', () => {
    const filterFunctions = ['vfs_read', 'finish_task_switch.isra.0', 'finish_task_switch.cold', 'ext4_readdir [ext4]', 'vfs_readv'].join('\n');
    expect(kprobeFunctionsIn(filterFunctions, 'vfs_read')).toEqual(['vfs_read']);
    expect(kprobeFunctionsIn(filterFunctions, 'finish_task_switch')).toEqual(['finish_task_switch.isra.0']);
    expect(kprobeFunctionsIn(filterFunctions, 'ext4_readdir')).toEqual(['ext4_readdir']);
    expect(kprobeFunctionsIn(filterFunctions, 'vfs_write')).toEqual([]);
    const kallsymsText = ['ffffffff81000100 t tcp_v4_rcv', 'ffffffff81000200 T tcp_v4_rcv.constprop.0', 'ffffffff81000300 D tcp_hashinfo'].join('\n');
    expect(kprobeFunctionsIn(kallsymsText, 'tcp_v4_rcv')).toEqual(['tcp_v4_rcv', 'tcp_v4_rcv.constprop.0']);
    expect(kprobeFunctionsIn(kallsymsText, 'tcp_hashinfo')).toEqual([]);
  });
});
