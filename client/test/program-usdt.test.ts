// USDT with an explicit target through the program object: a C program built here with
// <sys/sdt.h> (systemtap-sdt-dev) fires lbct:tick(value, step); attachUsdt() on its pid and path
// delivers both arguments.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLbcError } from '@lbc/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lbc } from '../src/index.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { cachedLbc } from './object-setup-support.ts';
import { caughtSync } from '@lbc/test-support/caught';

// Waits for a line on stdin, then fires lbct:tick N times (argv[1]) with value 4242 + i and step 3.
const SDT_PROGRAM = `
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1;
  char line[8];
  if (!fgets(line, sizeof line, stdin)) return 1;
  for (long i = 0; i < n; i++) {
    long value = 4242 + i;
    int step = 3;
    DTRACE_PROBE2(lbct, tick, value, step);
  }
  return 0;
}
`;

const env = useNativeFixtures();
let cacheDir: string;
let lbc: Lbc;
let binary: string;
beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lbc-usdt-cache-'));
  binary = env.fixtures.program('sdt-ticker', SDT_PROGRAM);
  lbc = await cachedLbc(env.fixtures, cacheDir, 'usdtprobe', 'usdt-probe').ready;
});
afterAll(() => {
  lbc?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

const tick = (slot: number) => Number(lbc.maps.ticks.get(slot));

describe('USDT probes', () => {
  it('SEC("usdt") is left to attachUsdt by auto-attach', () => {
    expect(lbc.unattached).toEqual([{ prog: 'lbct_on_tick', section: 'usdt' }]);
  });

  it('attachUsdt(pid, binary, provider, name) delivers the probe arguments from that process', async () => {
    const child = spawn(binary, ['5'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      await once(child, 'spawn');
      const link = lbc.programs.lbct_on_tick.attachUsdt(child.pid!, binary, 'lbct', 'tick');
      child.stdin.end('go\n');
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
      expect(tick(1)).toBe(5);
      expect(tick(0)).toBe(4242 + 4);
      expect(tick(2)).toBe(15);
      link.destroy();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a probe the binary does not have is LBC_ERR_ATTACH_TARGET naming it', () => {
    const err = caughtSync(() => lbc.programs.lbct_on_tick.attachUsdt(-1, binary, 'lbct', 'nosuch'));
    expect(isLbcError(err, 'LBC_ERR_ATTACH_TARGET')).toBe(true);
    expect((err as Error).message).toContain('has no USDT probe lbct:nosuch');
  });
});
