// struct_ops maps: registerStructOps() hands the kernel a TCP congestion control written in BPF,
// which then lists it among the available ones; destroy() (or close) unregisters it.
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLbcError } from '@lbc/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lbc } from '../src/index.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { cachedLbc } from './object-setup-support.ts';
import { caughtSync } from '@lbc/test-support/caught';

const AVAILABLE = '/proc/sys/net/ipv4/tcp_available_congestion_control';
const available = () => readFileSync(AVAILABLE, 'utf8').trim().split(/\s+/);

const env = useNativeFixtures();
let cacheDir: string;
let lbc: Lbc;
beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lbc-structops-cache-'));
  lbc = await cachedLbc(env.fixtures, cacheDir, 'structops', 'struct-ops').ready;
});
afterAll(() => {
  lbc?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('struct_ops maps', () => {
  it('loading does not register; registerStructOps() does, once; destroy() unregisters, close() too', async () => {
    expect(available()).not.toContain('lbct_cc');
    const link = lbc.registerStructOps('lbct_cc');
    expect(available()).toContain('lbct_cc');

    const again = caughtSync(() => lbc.registerStructOps('lbct_cc'));
    expect(isLbcError(again, 'LBC_ERR_ATTACH')).toBe(true);
    expect((again as Error).message).toContain('registers once');

    link.destroy();
    expect(available()).not.toContain('lbct_cc');

    // A SEC(".struct_ops") map registers once: a fresh instance registers anew, and close() unregisters.
    const fresh = await cachedLbc(env.fixtures, cacheDir, 'structops', 'struct-ops').ready;
    fresh.registerStructOps('lbct_cc');
    expect(available()).toContain('lbct_cc');
    fresh.close();
    expect(available()).not.toContain('lbct_cc');
  });

  it('a map that is not struct_ops, or no map at all, says so', async () => {
    const other = await cachedLbc(env.fixtures, cacheDir, 'structops', 'struct-ops').ready;
    try {
      const plain = caughtSync(() => other.registerStructOps('plain'));
      expect(isLbcError(plain, 'LBC_ERR_ATTACH_TARGET')).toBe(true);
      expect((plain as Error).message).toContain("not a struct_ops map: only maps declared in SEC(\".struct_ops\") register (this object's: lbct_cc)");
      expect(isLbcError(caughtSync(() => other.registerStructOps('nosuch')), 'LBC_ERR_MAP_NOT_FOUND')).toBe(true);
    } finally {
      other.close();
    }
  });
});
