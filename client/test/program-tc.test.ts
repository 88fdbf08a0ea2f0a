// TC programs through the program object: attachTc() on the host end of a veth pair whose other
// end lives in a private network namespace; pings from the namespace are counted, then dropped.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLbcError } from '@lbc/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lbc } from '../src/index.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { cachedLbc } from './object-setup-support.ts';
import { createVethNetns, type VethNetns } from '@lbc/test-support/veth-netns';

const env = useNativeFixtures();
let net: VethNetns;
let cacheDir: string;
let lbc: Lbc;

function tcFilters(): string {
  return execFileSync('tc', ['filter', 'show', 'dev', net.hostIf, 'ingress'], { encoding: 'utf8' });
}

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lbc-tc-cache-'));
  net = createVethNetns('tc');
  lbc = await cachedLbc(env.fixtures, cacheDir, 'tcicmp', 'tc-icmp').ready;
});
afterAll(() => {
  lbc?.close();
  net?.remove();
  rmSync(cacheDir, { recursive: true, force: true });
});

const seen = () => Number(lbc.maps.icmp_seen.get(0));

describe('TC programs', () => {
  it('SEC("tc") is left to attachTc by auto-attach', () => {
    expect(lbc.unattached.map((u) => u.prog).sort()).toEqual(['lbct_not_tc', 'lbct_tc_icmp']);
  });

  for (const mode of ['tcx', 'clsact'] as const) {
    it(`${mode}: counts the pings arriving on the interface, drops them when told, and detaches on destroy()`, () => {
      lbc.maps.drop_icmp.set(0, 0);
      const before = seen();
      const link = lbc.programs.lbct_tc_icmp.attachTc(net.hostIf, { mode });
      expect(link.mode).toBe(mode);
      if (mode === 'clsact') expect(tcFilters()).toMatch(/lbct_tc_icmp.*direct-action/);
      try {
        expect(net.ping(3)).toBe(3);
        expect(seen() - before).toBe(3);

        lbc.maps.drop_icmp.set(0, 1);
        expect(net.ping(2)).toBe(0);
        expect(seen() - before).toBe(5);
      } finally {
        link.destroy();
      }
      // Detached: pings pass and nothing counts them, though the drop flag is still set.
      expect(net.ping(2)).toBe(2);
      expect(seen() - before).toBe(5);
      if (mode === 'clsact') expect(tcFilters()).not.toMatch(/lbct_tc_icmp/);
    });
  }

  it('an unknown interface is LBC_ERR_ATTACH_TARGET; a socket filter is LBC_ERR_PROGRAM_KIND', () => {
    const caught = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e;
      }
    };
    const unknown = caught(() => lbc.programs.lbct_tc_icmp.attachTc('lbct-nosuch0'));
    expect(isLbcError(unknown, 'LBC_ERR_ATTACH_TARGET')).toBe(true);
    expect((unknown as Error).message).toContain('lbct-nosuch0');
    const kind = caught(() => lbc.programs.lbct_not_tc.attachTc(net.hostIf));
    expect(isLbcError(kind, 'LBC_ERR_PROGRAM_KIND')).toBe(true);
    expect((kind as Error).message).toContain('attachSocket()');
  });
});
