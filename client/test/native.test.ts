// The native libbpf shim against the real kernel: open from memory, load, attach, maps by fd.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, type NativeObject } from '../src/native/index.ts';
import { fixtureBuilder, lingeringPrograms, loadedProgramNames, type FixtureBuilder } from '@lbc/test-support/native-fixtures';

const native = loadNative();
let fixtures: FixtureBuilder;

beforeAll(() => {
  fixtures = fixtureBuilder();
});
afterAll(() => fixtures.cleanup());

function u32(value: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(value);
  return key;
}

function mapFd(object: NativeObject, name: string): number {
  const map = object.maps().find((m) => m.name === name);
  if (!map) throw new Error(`no map ${name}`);
  return map.fd;
}

function counter(object: NativeObject, slot: number): bigint {
  const value = native.mapLookup(mapFd(object, 'counts'), u32(slot), 8);
  if (!value) throw new Error(`counts[${slot}] missing`);
  return value.readBigUInt64LE();
}

describe('native object', () => {
  it('opens from memory and lists programs, maps and BTF before and after load', () => {
    const object = native.openObject(fixtures.object('exec-counter'), 'exec_counter');
    try {
      const before = object.programs();
      expect(before.map((p) => [p.name, p.section, p.typeName, p.fd])).toEqual([
        ['lbct_tp_exec', 'tracepoint/sched/sched_process_exec', 'tracepoint', -1],
        ['lbct_raw_exec', 'raw_tp/sched_process_exec', 'raw_tracepoint', -1],
        ['lbct_btf_exec', 'tp_btf/sched_process_exec', 'tracing', -1],
      ]);
      object.load();
      expect(object.programs().every((p) => p.fd > 0)).toBe(true);
      const maps = object.maps();
      expect(maps.map((m) => [m.name, m.typeName, m.keySize, m.valueSize, m.maxEntries]).sort()).toEqual([
        ['by_comm', 'hash', 16, 8, 64],
        ['counts', 'array', 4, 8, 4],
      ]);
      expect(object.programs().every((p) => p.id > 0)).toBe(true);
      expect(maps.every((m) => m.fd > 0 && m.btfKeyTypeId > 0 && m.btfValueTypeId > 0)).toBe(true);
      const btf = object.btf();
      expect(btf).not.toBeNull();
      expect(btf!.readUInt16LE(0)).toBe(0xeb9f); // BTF magic
    } finally {
      object.close();
    }
  });

  it('attaches a tracepoint by section; it fires on /bin/true and counts by comm', () => {
    const object = native.openObject(fixtures.object('exec-counter'), 'exec_counter');
    object.load();
    const link = object.attach('lbct_tp_exec');
    try {
      expect(link.fd()).toBeGreaterThan(0);
      execFileSync('/bin/true');
      expect(counter(object, 0)).toBeGreaterThanOrEqual(1n);
      const key = Buffer.alloc(16);
      key.write('true');
      expect(native.mapLookup(mapFd(object, 'by_comm'), key, 8)?.readBigUInt64LE()).toBeGreaterThanOrEqual(1n);
      // The other two programs were not attached.
      expect(counter(object, 1)).toBe(0n);
      expect(counter(object, 2)).toBe(0n);
    } finally {
      link.destroy();
      link.destroy();
      expect(link.fd()).toBe(-1);
      object.close();
    }
  });

  it('attaches raw_tp by name and tp_btf via attach_trace; both fire', () => {
    const object = native.openObject(fixtures.object('exec-counter'), 'exec_counter');
    object.load();
    const links = [object.attachRawTracepoint('lbct_raw_exec', 'sched_process_exec'), object.attachTrace('lbct_btf_exec')];
    try {
      execFileSync('/bin/true');
      expect(counter(object, 1)).toBeGreaterThanOrEqual(1n);
      expect(counter(object, 2)).toBeGreaterThanOrEqual(1n);
    } finally {
      for (const link of links) link.destroy();
      object.close();
    }
  });

  it('does map operations by fd: update, lookup, next key, delete', () => {
    const object = native.openObject(fixtures.object('exec-counter'), 'exec_counter');
    object.load();
    try {
      const fd = mapFd(object, 'by_comm');
      const key = (s: string) => {
        const k = Buffer.alloc(16);
        k.write(s);
        return k;
      };
      const value = Buffer.alloc(8);
      value.writeBigUInt64LE(42n);
      native.mapUpdate(fd, key('alpha'), value, 0);
      native.mapUpdate(fd, key('beta'), value, 0);
      expect(() => native.mapUpdate(fd, key('beta'), value, 1)).toThrow(expect.objectContaining({ errno: 17 })); // EEXIST
      expect(native.mapLookup(fd, key('alpha'), 8)?.readBigUInt64LE()).toBe(42n);
      expect(native.mapLookup(fd, key('gamma'), 8)).toBeNull();
      const seen: string[] = [];
      for (let k = native.mapNextKey(fd, null, 16); k; k = native.mapNextKey(fd, k, 16)) seen.push(k.toString().replace(/\0+$/, ''));
      expect(seen.sort()).toEqual(['alpha', 'beta']);
      expect(native.mapDelete(fd, key('alpha'))).toBe(true);
      expect(native.mapDelete(fd, key('alpha'))).toBe(false);
    } finally {
      object.close();
    }
  });

  it('lists what the kernel has loaded (programs, maps, links) with attach targets', () => {
    const object = native.openObject(fixtures.object('exec-counter'), 'exec_counter');
    object.load();
    const links = [object.attach('lbct_tp_exec'), object.attachRawTracepoint('lbct_raw_exec', 'sched_process_exec')];
    try {
      // Ids, not names: programs closed by earlier tests may linger in the list until RCU frees them.
      const ids = new Map(object.programs().map((p) => [p.name, p.id]));
      expect(native.objectIds('prog')).toEqual(expect.arrayContaining([...ids.values()]));
      const tp = native.programInfo(ids.get('lbct_tp_exec')!);
      expect(tp).toMatchObject({ typeName: 'tracepoint', name: 'lbct_tp_exec' });
      expect(tp!.tag).toMatch(/^[0-9a-f]{16}$/);
      const byComm = object.maps().find((m) => m.name === 'by_comm')!;
      expect(native.objectIds('map')).toContain(byComm.id);
      expect(native.mapInfo(byComm.id)).toMatchObject({ name: 'by_comm', typeName: 'hash', keySize: 16 });
      const linked = native.listLinks().filter((l) => l.progId === ids.get('lbct_tp_exec') || l.progId === ids.get('lbct_raw_exec'));
      expect(linked.map((l) => [l.typeName, l.target]).sort()).toEqual([
        ['perf_event', 'sched_process_exec'],
        ['raw_tracepoint', 'sched_process_exec'],
      ]);
    } finally {
      for (const link of links) link.destroy();
      object.close();
    }
  });

  it('close leaves none of the programs loaded', async () => {
    const object = native.openObject(fixtures.object('exec-counter'), 'exec_counter');
    object.load();
    const link = object.attach('lbct_tp_exec');
    expect(loadedProgramNames()).toContain('lbct_tp_exec');
    link.destroy();
    object.close();
    object.close();
    expect(await lingeringPrograms()).toEqual([]);
  });

  it('throws errno errors: unknown program, closed object, bad ELF', () => {
    const object = native.openObject(fixtures.object('exec-counter'), 'exec_counter');
    expect(() => object.attach('nope')).toThrow(expect.objectContaining({ errno: 2 }));
    object.close();
    expect(() => object.programs()).toThrow(expect.objectContaining({ errno: 9 }));
    expect(() => native.openObject(Buffer.from('not an ELF'), 'junk')).toThrow(expect.objectContaining({ errno: expect.any(Number) }));
  });
});
