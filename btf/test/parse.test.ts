import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BtfParseError, parseBtf } from '../src/index.ts';

const vmlinux = readFileSync('/sys/kernel/btf/vmlinux');

describe('parseBtf on the running kernel', () => {
  const btf = parseBtf(vmlinux);
  const dump = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], { maxBuffer: 1 << 30 }).toString();

  it('counts the same types bpftool sees', () => {
    const last = dump.trimEnd().split('\n').reverse().find((l) => l.startsWith('['))!;
    expect(btf.count).toBe(Number(/^\[(\d+)\]/.exec(last)![1]));
  });

  it('lays out task_struct as pahole does: pid and comm at their offsets', () => {
    const id = btf.lookupCType('struct task_struct')!;
    const task = btf.resolve(id);
    expect(task.kind).toBe('struct');
    if (task.kind !== 'struct') return;
    const start = dump.indexOf(`[${id}] STRUCT 'task_struct'`);
    const block = dump.slice(start, dump.indexOf('\n[', start + 1));
    for (const field of ['pid', 'comm']) {
      const member = task.members.find((m) => m.name === field)!;
      expect(block).toContain(`'${field}' type_id=${member.type} bits_offset=${member.bitOffset}`);
    }
    const comm = task.members.find((m) => m.name === 'comm')!;
    expect(btf.sizeof(comm.type)).toBe(16);
    expect(btf.describe(comm.type)).toBe('char[16]');
  });

  it('resolves typedef chains to their base types', () => {
    const u64 = btf.lookupCType('u64')!;
    const resolved = btf.resolve(u64);
    expect(resolved).toMatchObject({ kind: 'int', size: 8, signed: false });
  });
});

describe('parseBtf on hostile input', () => {
  it('rejects non-BTF bytes', () => {
    expect(() => parseBtf(Buffer.from('root:x:0:0:root:/root:/bin/bash\n'))).toThrow(BtfParseError);
    expect(() => parseBtf(gzipSync(vmlinux))).toThrow(/bad magic/);
  });

  it('rejects truncated BTF', () => {
    expect(() => parseBtf(vmlinux.subarray(0, vmlinux.length - 100))).toThrow(/past the end/);
  });

  it('rejects a dangling type reference', () => {
    // A minimal BTF: one PTR type pointing at type 7, which does not exist.
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0); hdr[2] = 1; hdr.writeUInt32LE(24, 4);
    const types = Buffer.alloc(12);
    types.writeUInt32LE(0, 0); types.writeUInt32LE(2 << 24, 4); types.writeUInt32LE(7, 8);
    const strs = Buffer.from([0]);
    hdr.writeUInt32LE(0, 8); hdr.writeUInt32LE(12, 12); hdr.writeUInt32LE(12, 16); hdr.writeUInt32LE(1, 20);
    expect(() => parseBtf(Buffer.concat([hdr, types, strs]))).toThrow(/missing type 7/);
  });
});
