/**
 * `lbc inspect` on this host's kernel, on programs the client loaded (compiled by the real
 * service): full names past the kernel's 15 characters, map key/value types from BTF, entries
 * decoded by them, run counts that move while stats are on, pinned paths, and the errors for an
 * unknown id. BPF programs on BPF programs (fentry, freplace) need trampolines: test/lab/inspect.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lbc, dumpMap, inspectMap, inspectMaps, inspectProgram, inspectPrograms, isLbcError, measureRunStats } from 'lbc-client';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { LBC_BIN, runCli } from '@lbc/test-support/run-cli';
import { LAB_PROGRAMS_DIR } from './lab/lab-payload.ts';

const TARGET = 'lab_inspect_openat_target';
const XDP = 'lab_inspect_xdp_pass_everything';
const MAP = 'lab_inspect_opens_by_process';

describe('lbc inspect (this kernel, programs loaded by the client)', () => {
  const env = useServiceFixture('lbc-inspect-');
  let lbc: Lbc;
  let pinDir: string;

  const openSome = (n: number) => {
    for (let i = 0; i < n; i++) closeSync(openSync('/proc/self/stat', 'r'));
  };

  beforeAll(async () => {
    lbc = await new Lbc('lab_inspect_target', undefined, { cwd: LAB_PROGRAMS_DIR, server: env.service.url, cacheDir: join(env.dir, 'cache'), load: false }).ready;
    lbc.rodata.target_pid = process.pid;
    pinDir = mkdtempSync('/sys/fs/bpf/lbc-inspect-test-');
    lbc.maps[MAP].pinPath = join(pinDir, MAP);
    await lbc.load();
    await lbc.attach();
    openSome(3);
  }, 120_000);
  afterAll(() => {
    lbc?.close();
    if (pinDir) rmSync(pinDir, { recursive: true, force: true });
  });

  it('progs: the full BTF names of programs whose kernel names are cut at 15 characters, with type and attachment', () => {
    const target = inspectPrograms().find((p) => p.id === lbc.programs[TARGET].id)!;
    expect(target).toMatchObject({ name: TARGET, kernelName: TARGET.slice(0, 15), typeName: 'tracepoint', targets: [] });
    expect(target.linkIds.length).toBe(1);
    const xdp = inspectPrograms().find((p) => p.id === lbc.programs[XDP].id)!;
    expect(xdp).toMatchObject({ name: XDP, kernelName: XDP.slice(0, 15), typeName: 'xdp', linkIds: [] });
  });

  it('prog ID: sizes, verified instructions, BTF function names, maps used by full name, link', () => {
    const p = inspectProgram(lbc.programs[TARGET].id);
    expect(p.functions).toEqual([TARGET, 'lab_inspect_count']);
    expect(p.jitedBytes).toBeGreaterThan(0);
    expect(p.xlatedBytes).toBeGreaterThan(0);
    expect(p.verifiedInsns).toBeGreaterThan(10);
    expect(p.maps.map((m) => m.name).sort()).toEqual(expect.arrayContaining([MAP]));
    expect(p.maps.find((m) => m.name === MAP)!.id).toBe(lbc.maps[MAP].id);
    expect(p.links).toHaveLength(1);
    expect(p.attachedBy).toEqual([]);
  });

  it('maps / map ID: full name, key and value types from BTF, entries, users and pinned path', () => {
    const id = lbc.maps[MAP].id;
    expect(inspectMaps().find((m) => m.id === id)).toMatchObject({
      name: MAP,
      kernelName: MAP.slice(0, 15),
      typeName: 'hash',
      keyType: 'struct lab_open_key',
      valueType: 'struct lab_open_stats',
      keySize: 20,
      valueSize: 16,
      maxEntries: 64,
    });
    const m = inspectMap(id);
    expect(m.entries).toBe(1);
    expect(m.usedBy.map((p) => p.id)).toContain(lbc.programs[TARGET].id);
    expect(m.pinned).toEqual([join(pinDir, MAP)]);
  });

  it('map ID --dump: the entries decoded by the BTF types, as the map object decodes them', () => {
    const d = dumpMap(lbc.maps[MAP].id);
    expect(d.entries).toEqual(lbc.maps[MAP].getAll());
    expect(d.entries).toEqual([{ key: { pid: process.pid, comm: expect.any(String) }, value: { opens: expect.any(BigInt), first_ns: expect.any(BigInt) } }]);
    expect(d.entries[0]!.value).toMatchObject({ opens: expect.toSatisfy((n: bigint) => n >= 3n) });
  });

  it('--stats: the run count moves while stats are on and the program runs, and stays with them off', async () => {
    const id = lbc.programs[TARGET].id;
    const stats = await measureRunStats(0.3, { ids: [id], during: () => openSome(25) });
    expect(stats.get(id)!.runCount).toBeGreaterThanOrEqual(25n);
    expect(stats.get(id)!.nsPerRun).toBeGreaterThan(0);
    // The stats fd is closed again: with the sysctl off, runs are no longer counted.
    const before = inspectProgram(id).runCount!;
    openSome(5);
    if (inspectProgram(id).statsEnabled === false) expect(inspectProgram(id).runCount).toBe(before);
  });

  it('unknown ids are LBC_ERR_INSPECT_NOT_FOUND; a non-dumpable map says so', () => {
    const err = (f: () => unknown) => { try { f(); } catch (e) { return e; } return undefined; };
    const e = err(() => inspectProgram(0xfffffff0));
    expect(isLbcError(e, 'LBC_ERR_INSPECT_NOT_FOUND')).toBe(true);
    expect((e as Error).message).toContain('no program with id 4294967280');
    expect(isLbcError(err(() => inspectMap(0xfffffff0)), 'LBC_ERR_INSPECT_NOT_FOUND')).toBe(true);
  });

  describe('setAttachTarget(func, program): fentry/freplace on a BPF program', () => {
    const tracer = () => new Lbc('lab_inspect_tracer', undefined, { cwd: LAB_PROGRAMS_DIR, server: env.service.url, cacheDir: join(env.dir, 'cache'), load: false, fallbacks: false }).ready;

    it('a target that is not a loaded program is refused before libbpf sees it', async () => {
      const t = await tracer();
      try {
        const unloaded = await new Lbc('lab_inspect_target', undefined, { cwd: LAB_PROGRAMS_DIR, server: env.service.url, cacheDir: join(env.dir, 'cache'), load: false }).ready;
        expect(() => t.programs.lab_inspect_count_replacement.setAttachTarget('lab_inspect_count', unloaded.programs[TARGET])).toThrow(
          /setAttachTarget\("lab_inspect_count", …\): the target must be a loaded BPF program or its fd, not program lab_inspect_openat_target \(not loaded\)/,
        );
        unloaded.close();
        expect(() => t.programs.lab_inspect_count_replacement.setAttachTarget('lab_inspect_count', -1)).toThrow(/not fd -1/);
      } finally {
        t.close();
      }
    });

    it('set to the loaded program, libbpf takes it; this kernel (no BPF trampolines) refuses freplace at load, named', async () => {
      const t = await tracer();
      try {
        t.programs.lab_inspect_fentry_on_bpf_prog.autoload = false;
        t.programs.lab_inspect_count_replacement.setAttachTarget('lab_inspect_count', lbc.programs[TARGET]);
        expect(t.programs.lab_inspect_count_replacement.attachTarget).toBe('lab_inspect_count');
        const err = await t.load().catch((e: unknown) => e);
        expect(isLbcError(err, 'LBC_ERR_ATTACH_UNSUPPORTED'), String(err)).toBe(true);
        expect((err as Error).message).toContain('program lab_inspect_count_replacement (SEC("freplace/lab_inspect_count")) is freplace, which this kernel refuses (EPERM at load');
      } finally {
        t.close();
      }
    });
  });

  describe('CLI', () => {
    it('inspect progs: a table with the full name; --json the same records', async () => {
      const id = lbc.programs[TARGET].id;
      const text = await runCli(['inspect', 'progs']);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^${id}\\s+tracepoint\\s+${TARGET}\\s`, 'm'));
      const json = await runCli(['inspect', 'progs', '--json']);
      expect(JSON.parse(json.stdout).find((p: { id: number }) => p.id === id)).toMatchObject({ name: TARGET, typeName: 'tracepoint' });
    });

    it('inspect prog ID --stats 1: runs counted in the window', async () => {
      const id = lbc.programs[TARGET].id;
      const opener = setInterval(() => openSome(5), 20);
      try {
        const r = await runCli(['inspect', 'prog', String(id), '--stats', '1', '--json']);
        expect(r.code, r.stderr).toBe(0);
        const p = JSON.parse(r.stdout);
        expect(p).toMatchObject({ id, name: TARGET, functions: [TARGET, 'lab_inspect_count'], stats: { seconds: 1 } });
        expect(p.stats.runCount).toBeGreaterThan(10);
        const text = await runCli(['inspect', 'prog', String(id)]);
        expect(text.stdout).toMatch(new RegExp(`^prog ${id}  tracepoint  ${TARGET}  \\(kernel name ${TARGET.slice(0, 15)}\\)$`, 'm'));
        expect(text.stdout).toMatch(/^ {2}functions +lab_inspect_openat_target, lab_inspect_count$/m);
      } finally {
        clearInterval(opener);
      }
    });

    it('inspect map ID --dump: decoded entries; --json', async () => {
      const id = lbc.maps[MAP].id;
      const r = await runCli(['inspect', 'map', String(id), '--dump']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ {2}key +struct lab_open_key \(20\)$/m);
      expect(r.stdout).toMatch(new RegExp(`^\\{pid=${process.pid} comm="[^"]*"\\} => \\{opens=\\d+ first_ns=\\d+\\}$`, 'm'));
      const j = JSON.parse((await runCli(['inspect', 'map', String(id), '--dump', '--json'])).stdout);
      expect(j.entries[0].key.pid).toBe(process.pid);
    });

    it('root without capabilities (all dropped, setpriv): LBC_ERR_INSPECT_PERMISSION naming what to grant', () => {
      const noCaps = ['--bounding-set=-all', '--inh-caps=-all', '--securebits=+noroot,+noroot_locked'];
      for (const args of [['inspect', 'progs'], ['inspect', 'map', String(lbc.maps[MAP].id), '--dump']]) {
        const r = spawnSync('setpriv', [...noCaps, process.execPath, LBC_BIN, ...args], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(1);
        expect(r.stderr).toMatch(/^LBC_ERR_INSPECT_PERMISSION: The kernel refuses to show its BPF objects to this process: .*Operation not permitted \(EPERM\)$/m);
        expect(r.stderr).toContain('fix: Run as root, or give the process CAP_BPF and CAP_PERFMON');
      }
    });

    it('an unknown id, a missing id and a stray flag are errors with codes', async () => {
      const unknown = await runCli(['inspect', 'prog', '4294967280']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('LBC_ERR_INSPECT_NOT_FOUND: No BPF object of that kind has that id in the kernel: no program with id 4294967280 is loaded');
      const missing = await runCli(['inspect', 'map']);
      expect(missing.stderr).toContain('LBC_ERR_BAD_REQUEST');
      const stray = await runCli(['inspect', 'maps', '--dump']);
      expect(stray.stderr).toContain('--dump goes with inspect map ID');
    });
  });
});
