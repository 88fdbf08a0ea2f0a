import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fixtureBuilder, type FixtureBuilder } from '@lbc/test-support/native-fixtures';
import { arm64NodeRoot } from '@lbc/test-support/arm64-node';

/**
 * The arm64 prebuilt addon, cross-built here, run by an arm64 node 20 (Debian trixie's) under
 * qemu-aarch64 user emulation: it loads, and its libbpf (with arm64 libelf and zlib) opens a real
 * BPF object and reads its programs, maps and BTF. Loading into a kernel is out of reach here:
 * qemu-user does not pass the bpf() syscall through (ENOSYS), which the kernel lab's arm64 guests can.
 */
const ADDON = resolve(import.meta.dirname, '..', 'client', 'prebuilds', 'linux-arm64', 'lbc_native.napi.glibc.node');

const CHECK = `
const addon = { exports: {} };
process.dlopen(addon, process.argv[2]);
const object = addon.exports.openObject(require('fs').readFileSync(process.argv[3]), 'exec_counter');
let load;
try { object.load(); load = 'loaded'; } catch (error) { load = error.message.split('\\n')[0]; }
console.log(JSON.stringify({ arch: process.arch, node: process.version, programs: object.programs().map((p) => p.name).sort(),
  maps: object.maps().map((m) => m.typeName + ' ' + m.name).sort(), btfBytes: object.btf()?.length ?? 0, load }));
`;

describe('the arm64 prebuilt addon under qemu-aarch64', () => {
  let fixtures: FixtureBuilder;
  let root: string;
  beforeAll(async () => {
    fixtures = fixtureBuilder();
    root = await arm64NodeRoot();
  }, 300_000);
  afterAll(() => fixtures?.cleanup());

  it('loads in an arm64 node and opens a BPF object with its own libbpf, libelf and zlib', async () => {
    const script = join(fixtures.dir, 'check.cjs');
    writeFileSync(script, CHECK);
    const { stdout } = await promisify(execFile)('qemu-aarch64', ['-L', root, join(root, 'usr/bin/node'), script, ADDON, fixtures.objectPath('exec-counter')], { timeout: 240_000 });
    const seen = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(seen.arch).toBe('arm64');
    expect(seen.programs).toEqual(['lbct_btf_exec', 'lbct_raw_exec', 'lbct_tp_exec']);
    expect(seen.maps).toEqual(['array counts', 'hash by_comm']);
    expect(seen.btfBytes).toBeGreaterThan(0);
    process.stdout.write(`arm64 addon under qemu-aarch64 (node ${seen.node}): ${seen.programs.length} programs, ${seen.maps.length} maps; load: ${seen.load}\n`);
  }, 300_000);
});
