// BPF LSM programs: where the kernel refuses them, the error says why in words — BPF LSM not in
// the active LSM list (LBC_ERR_LSM_UNAVAILABLE, with the lsm= to boot with), or active but without
// the trampolines LSM programs need (LBC_ERR_ATTACH_UNSUPPORTED) — instead of a bare EPERM.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLbcError } from '@lbc/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../src/native/index.ts';
import { activeLsms, attachLsm, loadObject, lsmRefusal } from '../src/attach/index.ts';
import type { NativeProgramInfo } from '../src/native/types.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';

const SECURITYFS = '/sys/kernel/security';
const env = useNativeFixtures();
let mountedHere = false;

beforeAll(() => {
  // The active LSM list lives in securityfs; mount it for this test when the machine has not.
  if (!existsSync(join(SECURITYFS, 'lsm'))) {
    execFileSync('mount', ['-t', 'securityfs', 'securityfs', SECURITYFS]);
    mountedHere = true;
  }
});
afterAll(() => {
  if (mountedHere) spawnSync('umount', [SECURITYFS]);
});

const PROG: NativeProgramInfo = { name: 'guard', section: 'lsm/file_open', type: 29, typeName: 'lsm', attachType: 27, autoload: true, fd: -1, id: 0 };

describe('BPF LSM programs', () => {
  it('on this kernel: loaded and attached where BPF LSM runs, else refused with the reason in words', () => {
    const lsms = activeLsms();
    expect(lsms).toBeDefined();
    const object = loadNative().openObject(env.fixtures.object('lsm-hook'), 'lsmhook');
    try {
      let err: unknown;
      try {
        loadObject(object, 'lsmhook');
        attachLsm(object, 'lbct_file_open').destroy();
      } catch (e) {
        err = e;
      }
      if (!lsms!.includes('bpf')) {
        expect(isLbcError(err, 'LBC_ERR_LSM_UNAVAILABLE')).toBe(true);
        expect((err as Error).message).toContain(`lsm=${[...lsms!, 'bpf'].join(',')}`);
      } else if (err !== undefined) {
        // This machine: "bpf" is active, but like fentry the program is refused at load (no trampolines).
        expect(isLbcError(err, 'LBC_ERR_ATTACH_UNSUPPORTED')).toBe(true);
        expect((err as Error).message).toContain('BPF LSM is active here');
        expect((err as Error).message).toContain("lbct_file_open");
      }
    } finally {
      object.close();
    }
  });

  it('without "bpf" among the active LSMs the error names the list and the lsm= to boot with', () => {
    const err = lsmRefusal(PROG, 'obj', 1, ['lockdown', 'capability', 'landlock']);
    expect(err.code).toBe('LBC_ERR_LSM_UNAVAILABLE');
    expect(err.message).toContain('its active LSMs are lockdown,capability,landlock, without "bpf"');
    expect(err.message).toContain('lsm=lockdown,capability,landlock,bpf');
  });

  it('without securityfs it says how to see the list', () => {
    const err = lsmRefusal(PROG, 'obj', 1, undefined);
    expect(err.code).toBe('LBC_ERR_LSM_UNAVAILABLE');
    expect(err.message).toContain('mount -t securityfs');
  });

  it('activeLsms reads the comma list, and is undefined where there is none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbc-lsm-'));
    try {
      writeFileSync(join(dir, 'lsm'), 'lockdown,capability,bpf');
      expect(activeLsms(join(dir, 'lsm'))).toEqual(['lockdown', 'capability', 'bpf']);
      expect(activeLsms(join(dir, 'missing'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
