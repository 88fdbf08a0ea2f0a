/**
 * The lab's guest runner on a real kernel, for what verify will meet besides a passing run: a guest
 * that never reaches /init, a run that hangs past the wall limit, and console lines glued to the
 * firmware's. The archives are what the kernel unpacks (busybox lists them back the same).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { BUSYBOX, GuestRoot, GUEST_MARKER, baseGuestImage, bootGuest, labKernelSpecs, readConsole, recordLine, requireLabKernels } from '../src/lab/index.ts';

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
