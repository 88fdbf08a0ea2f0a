/**
 * The lab's guest runner on a real kernel, for what verify will meet besides a passing run: a guest
 * that never reaches /init, a run that hangs past the wall limit, and console lines glued to the
 * firmware's. The archives are what the kernel unpacks (busybox lists them back the same).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { BUSYBOX, GuestRoot, GUEST_MARKER, baseGuestImage, bootGuest, foreignBusybox, labKernelSpecs, readConsole, recordLine, requireLabKernels } from '../src/lab/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'lbc-lab-guest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  return undefined;
}

function archive(name: string, fill: (root: GuestRoot) => void): string {
  const root = new GuestRoot();
  fill(root);
  const path = join(dir, name);
  root.writeCpio(path);
  return path;
}

describe('lab kernels', () => {
  it('a lab directory without them: LBC_ERR_LAB_NOT_SET_UP naming each missing kernel and the setup script; an unknown id lists the known ones', () => {
    const empty = mkdtempSync(join(dir, 'empty-lab-'));
    const missing = thrown(() => requireLabKernels(undefined, empty));
    expect(isLbcError(missing, 'LBC_ERR_LAB_NOT_SET_UP')).toBe(true);
    expect((missing as Error).message).toContain(`${labKernelSpecs().map((k) => k.id).join(', ')} missing from ${empty}; run bash scripts/lab-setup.sh`);
    const unknown = thrown(() => requireLabKernels(['sid-9.9']));
    expect(isLbcError(unknown, 'LBC_ERR_LAB_NOT_SET_UP')).toBe(true);
    expect((unknown as Error).message).toContain('no lab kernel sid-9.9 (the lab has bullseye-5.10, bookworm-6.1');
  });
});

describe('guest console', () => {
  it('reads records by substring (SeaBIOS glues the first line), the exit status, and keeps malformed lines apart', () => {
    const reading = readConsole([
      `\x1bc\x1b[?7l\x1b[2JBooting from ROM...${GUEST_MARKER.init} 1.52`,
      `${recordLine({ check: 'a', ok: true })}\r`,
      `[    3.1] some kernel line ${recordLine([1, 2])}`,
      `${GUEST_MARKER.record} {"cut": `,
      `${GUEST_MARKER.exit} 3 4.20`,
    ]);
    expect(reading).toEqual({ records: [{ check: 'a', ok: true }, [1, 2]], exitCode: 3, initSeen: true, malformed: [`${GUEST_MARKER.record} {"cut": `] });
  });
});

describe('initramfs archives', () => {
  it('newc archives list back with parents first, symlinks and device nodes', () => {
    const path = archive('list.cpio', (root) => {
      root.addText('lab/deep/file.txt', 'hello\n');
      root.addSymlink('bin/sh', '/bin/busybox');
      root.addCharDevice('dev/console', 5, 1);
    });
    const listing = execFileSync(BUSYBOX, ['cpio', '-tv', '-F', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(listing.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(-1)[0] === '/bin/busybox' ? l.split(/\s+/).slice(-3).join(' ') : l.split(/\s+/).pop())).toEqual([
      'lab', 'lab/deep', 'lab/deep/file.txt', 'bin', 'bin/sh -> /bin/busybox', 'dev', 'dev/console',
    ]);
    expect(execFileSync(BUSYBOX, ['cpio', '-i', '--to-stdout', '-F', path, 'lab/deep/file.txt'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toBe('hello\n');
  });
});

describe('a foreign root (an arm64 userland)', () => {
  it('is copied as it is: symlinks stay symlinks (a directory one too), skipped paths are left out', () => {
    const foreign = mkdtempSync(join(dir, 'foreign-'));
    mkdirSync(join(foreign, 'usr/lib/gconv'), { recursive: true });
    mkdirSync(join(foreign, 'usr/bin'), { recursive: true });
    writeFileSync(join(foreign, 'usr/bin/node'), 'not really node');
    writeFileSync(join(foreign, 'usr/lib/libx.so.1.2'), 'lib');
    writeFileSync(join(foreign, 'usr/lib/gconv/BIG5.so'), 'skip me');
    symlinkSync('libx.so.1.2', join(foreign, 'usr/lib/libx.so.1'));
    symlinkSync('usr/lib', join(foreign, 'lib'));
    const path = archive('foreign.cpio', (root) => root.addTreeAsIs(foreign, '/', [/\/gconv\//]));
    const listing = execFileSync(BUSYBOX, ['cpio', '-tv', '-F', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const names = listing.split('\n').filter(Boolean).map((l) => l.replace(/^.*\d\d:\d\d(:\d\d)? /, ''));
    expect(names).toEqual(expect.arrayContaining(['lib -> usr/lib', 'usr/lib/libx.so.1 -> libx.so.1.2', 'usr/lib/libx.so.1.2', 'usr/bin/node', 'usr/lib/gconv']));
    expect(names.filter((n) => n.includes('BIG5') || n.startsWith('lib/'))).toEqual([]);
  });

  it('an arm64 base image without the arm64 busybox, or with node but no arm64 node root: LBC_ERR_LAB_NOT_SET_UP naming the fix', () => {
    const empty = mkdtempSync(join(dir, 'no-arm64-'));
    const noBusybox = thrown(() => baseGuestImage({ arch: 'aarch64', node: false, labDir: empty }));
    expect(isLbcError(noBusybox, 'LBC_ERR_LAB_NOT_SET_UP')).toBe(true);
    expect((noBusybox as Error).message).toContain(`${foreignBusybox('aarch64', empty)} is missing (Debian's aarch64 busybox-static); run bash scripts/lab-setup.sh`);
    mkdirSync(join(empty, 'userland/aarch64'), { recursive: true });
    writeFileSync(join(empty, 'userland/aarch64/busybox'), 'stand-in');
    const noNode = thrown(() => baseGuestImage({ arch: 'aarch64', labDir: empty }));
    expect(isLbcError(noNode, 'LBC_ERR_LAB_NOT_SET_UP')).toBe(true);
    expect((noNode as Error).message).toContain('needs foreignNodeRoot');
  });
});

describe('booting the arm64 lab kernel (busybox only)', () => {
  const kernel = requireLabKernels().find((k) => k.arch === 'aarch64');

  it('qemu-system-aarch64 (virt, ttyAMA0) runs the arm64 busybox /lab/run: the guest is aarch64 and the lab\'s release', async () => {
    expect(kernel, 'lab-kernels.txt lists an aarch64 kernel').toBeDefined();
    const run = await bootGuest({
      kernel: kernel!,
      initrds: [baseGuestImage({ arch: 'aarch64', node: false }), archive('arm64.cpio', (root) => root.addText('lab/run', `#!/bin/sh\necho "${GUEST_MARKER.record} \\"$(uname -m) $(uname -r)\\""\n`, 0o755))],
      timeoutMs: 90_000,
    });
    expect(run.records).toEqual([`aarch64 ${kernel!.release}`]);
    expect(run.exitCode).toBe(0);
  }, 120_000);
});

describe('booting a lab kernel (busybox only)', () => {
  const [kernel] = requireLabKernels(['bookworm-6.1']);
  const base = baseGuestImage({ node: false });

  it('runs /lab/run and returns its records and exit status', async () => {
    const run = await bootGuest({
      kernel: kernel!,
      initrds: [base, archive('ok.cpio', (root) => root.addText('lab/run', `#!/bin/sh\necho '${recordLine({ uname: 'x' })}'\necho "${GUEST_MARKER.record} \\"$(uname -r)\\""\nexit 7\n`, 0o755))],
      timeoutMs: 60_000,
    });
    expect(run.records).toEqual([{ uname: 'x' }, kernel!.release]);
    expect(run.exitCode).toBe(7);
    expect(run.initMs).toBeGreaterThan(0);
    expect(run.doneMs).toBeGreaterThanOrEqual(run.initMs);
    expect(run.wallMs).toBeGreaterThanOrEqual(run.doneMs);
  });

  it('a run that hangs: LBC_ERR_GUEST_TIMEOUT after the wall limit, with the console tail', async () => {
    const started = Date.now();
    const err = await bootGuest({
      kernel: kernel!,
      initrds: [base, archive('hang.cpio', (root) => root.addText('lab/run', '#!/bin/sh\necho hanging-now\nwhile :; do sleep 1; done\n', 0o755))],
      timeoutMs: 15_000,
    }).catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_GUEST_TIMEOUT'), String(err)).toBe(true);
    expect((err as Error).message).toContain('hanging-now');
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  it('a guest that never reaches /init (no /init in the archive): LBC_ERR_GUEST_FAILED with the panic', async () => {
    const err = await bootGuest({ kernel: kernel!, initrds: [archive('empty.cpio', (root) => root.addText('etc/motd', 'nothing to run\n'))], timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_GUEST_FAILED'), String(err)).toBe(true);
    expect((err as Error).message).toContain('never reached /init');
    expect((err as Error).message).toMatch(/Kernel panic|No working init/);
  });
});
