import { spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kallsyms, kallsyms, ProcessSymbols, readProcMaps } from '../src/symbols/index.ts';
import { resolveLibrary, resolveSymbolOffset } from '../src/elf/index.ts';
import { loadKernelFixture, type LoadedFixture } from './fixtures/maps-kernel.ts';

describe('kallsyms', () => {
  it('parses text symbols with modules and finds the enclosing one', () => {
    const k = Kallsyms.parse(
      ['ffffffff81000000 T _stext', 'ffffffff81000100 t helper', 'ffffffff81000200 D some_data', 'ffffffffc0001000 t mod_fn\t[nf_tables]', ''].join('\n'),
    );
    expect(k.size).toBe(3);
    expect(k.lookup(0xffffffff81000150n)).toEqual({ name: 'helper', offset: 0x50 });
    expect(k.lookup(0xffffffffc0001004n)).toEqual({ name: 'mod_fn', offset: 4, module: 'nf_tables' });
    expect(k.lookup(0xffffffff80000000n)).toBeNull();
  });

  it('resolves addresses of the running kernel as /proc/kallsyms lists them', () => {
    const line = readFileSync('/proc/kallsyms', 'utf8').split('\n').find((l) => / [tT] do_sys_openat2$/.test(l));
    expect(line).toBeDefined();
    const addr = BigInt(`0x${line!.split(' ')[0]}`);
    expect(kallsyms().lookup(addr + 3n)).toEqual({ name: 'do_sys_openat2', offset: 3 });
  });
});

describe('user symbols of a live process', () => {
  it('maps an address in this process\'s libc back to malloc via /proc/self/maps and the ELF', () => {
    const libc = resolveLibrary('libc');
    const off = resolveSymbolOffset(libc, 'malloc');
    // /lib is a link to /usr/lib on merged-/usr systems: compare real paths.
    const real = realpathSync(libc);
    const mapping = readProcMaps(process.pid).find((m) => m.path.startsWith('/') && realpathSync(m.path) === real && off >= m.offset && off < m.offset + (m.end - m.start));
    expect(mapping).toBeDefined();
    const addr = BigInt(mapping!.start + (off - mapping!.offset) + 16);
    expect(new ProcessSymbols(process.pid).lookup(addr)).toEqual({ name: 'malloc', offset: 16, module: mapping!.path });
  });

  it('gives null for an exited process', () => {
    expect(new ProcessSymbols(2 ** 22 + 12345).lookup(0x400000n)).toBeNull();
  });
});

describe('stack ids from a tracepoint program', () => {
  let f: LoadedFixture;
  beforeAll(() => {
    f = loadKernelFixture();
    f.attach();
  });
  afterAll(() => f?.close());

  it('resolve to kernel functions of the exec path', async () => {
    const events: { pid: number; stack_id: number }[] = [];
    const sub = f.maps.rb.openRingBuffer((e) => events.push(e as { pid: number; stack_id: number }));
    const pid = await new Promise<number>((resolve) => {
      const child = spawn('/bin/true');
      child.on('exit', () => resolve(child.pid!));
    });
    for (let i = 0; i < 500 && !events.some((e) => e.pid === pid); i++) await new Promise((r) => setTimeout(r, 10));
    sub.close();
    const e = events.find((x) => x.pid === pid);
    expect(e).toBeDefined();
    expect(e!.stack_id).toBeGreaterThanOrEqual(0);
    const frames = f.maps.stacks.stacks(e!.stack_id);
    expect(frames.length).toBeGreaterThan(2);
    for (const fr of frames) {
      expect(fr.kernel).toBe(true);
      expect(fr.name).not.toBeNull();
      expect(fr.text).toMatch(/^[\w.]+\+0x[0-9a-f]+$/);
    }
    const names = frames.map((fr) => fr.name);
    expect(names.some((n) => /execve|exec_binprm|bprm_execve/.test(n!))).toBe(true);
    expect(names.some((n) => /do_syscall_64|entry_SYSCALL_64/.test(n!))).toBe(true);
    expect(f.maps.stacks.stacks(-14)).toEqual([]);
  });
});
